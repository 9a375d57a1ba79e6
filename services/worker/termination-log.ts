/**
 * The container's termination message: the kubelet reads it into the Pod's
 * `state.terminated.message`, where the Job controller, the operator and `kubectl describe`
 * show it. Written only where the kubelet provides the file.
 */
import { access, constants, writeFile } from 'node:fs/promises';

/** The kubelet keeps at most 4096 bytes per container. */
const MAX_BYTES = 4096;

export async function writeTerminationMessage(path: string, message: string): Promise<boolean> {
  try {
    await access(path, constants.W_OK);
  } catch {
    return false;
  }
  let bytes = Buffer.from(message, 'utf8');
  if (bytes.length > MAX_BYTES) bytes = Buffer.from(`${bytes.subarray(0, MAX_BYTES - 3).toString('utf8')}...`);
  await writeFile(path, bytes.subarray(0, MAX_BYTES));
  return true;
}
