/**
 * Bilinear crop-and-resize of an RGB frame into the model's int32 input, in plain JS.
 * Doing this here instead of with tensor ops avoids turning every full frame into a
 * float tensor first (several milliseconds a frame on the WebAssembly backend).
 * Samples outside the frame are black, as in tf.image.cropAndResize.
 */
import type { CropRegion } from './crop-tracker.js';

export function cropResizeRgb(
  rgb: Uint8Array,
  size: number,
  crop: CropRegion,
  outSize: number,
  out?: Int32Array,
): Int32Array {
  const dst = out ?? new Int32Array(outSize * outSize * 3);
  const max = size - 1;
  const yScale = ((crop.yMax - crop.yMin) * max) / (outSize - 1);
  const xScale = ((crop.xMax - crop.xMin) * max) / (outSize - 1);
  let o = 0;
  for (let oy = 0; oy < outSize; oy++) {
    const sy = crop.yMin * max + oy * yScale;
    if (sy < 0 || sy > max) {
      dst.fill(0, o, o + outSize * 3);
      o += outSize * 3;
      continue;
    }
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, max);
    const fy = sy - y0;
    const row0 = y0 * size * 3;
    const row1 = y1 * size * 3;
    for (let ox = 0; ox < outSize; ox++) {
      const sx = crop.xMin * max + ox * xScale;
      if (sx < 0 || sx > max) {
        dst[o++] = 0;
        dst[o++] = 0;
        dst[o++] = 0;
        continue;
      }
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, max);
      const fx = sx - x0;
      const a = row0 + x0 * 3;
      const b = row0 + x1 * 3;
      const c = row1 + x0 * 3;
      const d = row1 + x1 * 3;
      for (let ch = 0; ch < 3; ch++) {
        const top = (rgb[a + ch] as number) + ((rgb[b + ch] as number) - (rgb[a + ch] as number)) * fx;
        const bottom = (rgb[c + ch] as number) + ((rgb[d + ch] as number) - (rgb[c + ch] as number)) * fx;
        dst[o++] = Math.round(top + (bottom - top) * fy);
      }
    }
  }
  return dst;
}
