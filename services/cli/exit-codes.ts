/** Process exit codes of `nfc`, stable for scripts and for the Job's podFailurePolicy. */
export const EXIT = {
  OK: 0,
  /** Something failed on our side; retrying may help. */
  INTERNAL: 1,
  /** Wrong command-line usage. */
  USAGE: 2,
  /** The video (or an option) can never be analysed: corrupt, hostile, too large... */
  BAD_INPUT: 3,
} as const;
