/** How long a signed URL may live: S3 refuses more than 7 days, and the disk store follows suit. */
import { ObjectStoreError } from './errors.js';

export const MAX_EXPIRES_SECONDS = 7 * 24 * 3600;

/** Returns `seconds` when it is a whole number of seconds from 1 s to 7 days; throws InvalidArgument otherwise. */
export function checkExpiresSeconds(seconds: number): number {
  if (!(Number.isInteger(seconds) && seconds >= 1 && seconds <= MAX_EXPIRES_SECONDS)) {
    throw new ObjectStoreError(
      `expiresSeconds must be an integer from 1 to ${MAX_EXPIRES_SECONDS} (got ${seconds})`,
      'InvalidArgument',
      'permanent',
      { operation: 'presign', expiresSeconds: seconds },
    );
  }
  return seconds;
}
