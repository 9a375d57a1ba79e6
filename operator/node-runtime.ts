/**
 * How Node.js runs the operator in its image (Dockerfile.operator sets exactly these, `bin/nfc
 * operator` too; test/deploy checks they agree). Measured by `npm run bench:operator` at 10,000
 * VideoAnalyses: peak RSS 434 MB with Node's defaults, 127 MB with these.
 * - A 1 MB young generation: V8's default grows to 16 MB × 3 under a burst of watch events
 *   and stays resident.
 * - An old-generation cap of 256 MB. Far above what 10,000 resources keep (~50 MB), but below
 *   256 MB V8 lets the heap grow only ~1.3× past what survived the last full GC, where with the
 *   cap it derives from a large machine's memory it lets it grow ~4× (the heap reached 340 MB,
 *   most of it garbage). Raise it (NODE_OPTIONS) for far more resources.
 * - Two malloc arenas instead of one per thread: glibc keeps freed memory in each.
 * - V8's --optimize-for-size (smaller code and heap growth steps): peak 151 → 127 MB at 10,000,
 *   for ~25 % more CPU (36 s over the whole burst). V8 refuses it in NODE_OPTIONS, so it goes
 *   on the command line (the image's ENTRYPOINT).
 */
export const OPERATOR_V8_FLAGS = ['--optimize-for-size'];
export const OPERATOR_NODE_OPTIONS = '--max-semi-space-size=1 --max-old-space-size=256';
export const OPERATOR_MALLOC_ARENA_MAX = '2';
