import { readFileSync, writeFileSync } from "node:fs";

/**
 * pocketsphinx's `sendump` -> SphinxTrain's `mixture_weights`.
 *
 * Debian's en-us model ships its mixture weights only as `sendump`: 8-bit quantized negative logs
 * that pocketsphinx reads fast. SphinxTrain's `bw` and `map_adapt` (speaker adaptation) need them
 * as float32 `mixture_weights`. The quantization step is pocketsphinx's: log base 1.0001 shifted
 * down 10 bits (SENSCR_SHIFT), so a byte q stands for p = 1.0001^-(q * 1024). `mk_s2sendump
 * -mwfloor 1e-7` turns what this writes back into the same bytes (tested).
 */
export interface MixtureWeights {
  senones: number;
  features: number;
  densities: number;
  /** [senone][feature][density], each distribution summing to 1. */
  weights: Float32Array;
}

const LOG_STEP = 1024 * Math.log(1.0001);

export class SendumpError extends Error {}

export function readSendump(path: string): MixtureWeights {
  const bytes = readFileSync(path);
  let at = 0;
  const int32 = () => {
    if (at + 4 > bytes.length) throw new SendumpError(`${path}: ends inside its header`);
    const v = bytes.readInt32LE(at);
    at += 4;
    return v;
  };
  const headerLines: string[] = [];
  // Length-prefixed, NUL-terminated strings up to a zero length: a title, a description, then "key value" lines.
  for (let n = int32(); n !== 0; n = int32()) {
    if (n < 0 || n > 1000) throw new SendumpError(`${path}: not a pocketsphinx sendump (header string of ${n} bytes)`);
    headerLines.push(bytes.toString("latin1", at, at + n - 1));
    at += n;
  }
  const header = (key: string) => Number(headerLines.find((l) => l.startsWith(`${key} `))?.slice(key.length + 1) ?? NaN);
  const features = header("feature_count");
  // pocketsphinx reads a missing cluster_count as 0 (plain 8-bit weights).
  if ((header("cluster_count") || 0) !== 0) throw new SendumpError(`${path}: clustered (4-bit) sendump files are not supported`);
  const densities = int32();
  const senones = int32();
  // On disk: [feature][density][senone].
  if (!(features > 0) || bytes.length - at !== features * densities * senones) {
    throw new SendumpError(`${path}: expected ${features} x ${densities} x ${senones} weights, found ${bytes.length - at} bytes`);
  }
  const weights = new Float32Array(senones * features * densities);
  for (let s = 0; s < senones; s++) {
    for (let f = 0; f < features; f++) {
      const row = weights.subarray((s * features + f) * densities, (s * features + f + 1) * densities);
      let sum = 0;
      for (let d = 0; d < densities; d++) sum += row[d] = Math.exp(-bytes[at + (f * densities + d) * senones + s] * LOG_STEP);
      for (let d = 0; d < densities; d++) row[d] /= sum;
    }
  }
  return { senones, features, densities, weights };
}

/** SphinxTrain's s3 binary format: a text header, a byte-order word, the dimensions, the floats. */
export function writeMixtureWeights(path: string, m: MixtureWeights): void {
  const head = Buffer.from("s3\nversion 1.0\nendhdr\n", "latin1");
  const dims = Buffer.alloc(20);
  [0x11223344, m.senones, m.features, m.densities, m.weights.length].forEach((v, i) => dims.writeUInt32LE(v, i * 4));
  writeFileSync(path, Buffer.concat([head, dims, Buffer.from(m.weights.buffer, m.weights.byteOffset, m.weights.byteLength)]));
}
