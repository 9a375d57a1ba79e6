/**
 * Puts one analysis's files in the output bucket: frames.csv, chart.png, thumbnails/*.png (and
 * annotated.mp4 when there is one), then report.json last, so a report in the bucket means every
 * file it names is there too. The uploaded report names those objects, not the worker's scratch
 * paths, and the source video by its s3:// URI.
 */
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Report } from '../analysis/report/schema.js';
import { formatS3Uri, keyUnder } from '../platform/object-store/s3-uri.js';
import type { ObjectStorage } from '../platform/object-store/storage.js';

export interface Uploaded {
  /** s3:// URI of report.json. */
  report: string;
  /** s3:// URIs of the thumbnails, in rep order. */
  thumbnails: string[];
  /** The report as uploaded. */
  uploadedReport: Report;
}

export async function uploadArtifacts(args: {
  /** S3 or disk: only uploads are needed. */
  store: Pick<ObjectStorage, 'uploadFile'>;
  report: Report;
  bucket: string;
  prefix: string;
  sourceUri: string;
}): Promise<Uploaded> {
  const { store, report, bucket, prefix } = args;
  const uri = (relative: string) => formatS3Uri(bucket, keyUnder(prefix, relative));
  const files: Array<{ local: string; relative: string }> = [{ local: report.files.framesCsv, relative: 'frames.csv' }];
  if (report.files.chart) files.push({ local: report.files.chart, relative: 'chart.png' });
  const thumbnails = report.files.thumbnails.map((local) => ({ local, relative: `thumbnails/${basename(local)}` }));
  files.push(...thumbnails);
  if (report.files.annotatedVideo) files.push({ local: report.files.annotatedVideo, relative: 'annotated.mp4' });

  await forEachLimit(files, 4, (f) => store.uploadFile(bucket, keyUnder(prefix, f.relative), f.local));

  const uploadedReport: Report = {
    ...report,
    video: { ...report.video, file: args.sourceUri },
    files: {
      report: uri('report.json'),
      framesCsv: uri('frames.csv'),
      chart: report.files.chart ? uri('chart.png') : null,
      thumbnails: thumbnails.map((t) => uri(t.relative)),
      annotatedVideo: report.files.annotatedVideo ? uri('annotated.mp4') : null,
    },
  };
  await writeFile(report.files.report, `${JSON.stringify(uploadedReport, null, 2)}\n`);
  await store.uploadFile(bucket, keyUnder(prefix, 'report.json'), report.files.report, 'application/json');
  return { report: uploadedReport.files.report, thumbnails: uploadedReport.files.thumbnails, uploadedReport };
}

async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
}
