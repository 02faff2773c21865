import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  SafetensorsError,
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  saveSafetensors,
  saveSafetensorsSync,
} from "../../runtime/checkpoint/safetensors.js";
import { writeFileAtomic, writeFileAtomicSync } from "../../runtime/util/atomic-write.js";
import { makeTempDir, removeDir } from "./helpers.js";

const dir = makeTempDir("revgnn-ckpt-");
afterAll(() => removeDir(dir));

const concat = (chunks: Uint8Array[]): Uint8Array => Buffer.concat(chunks);

function sample() {
  return {
    "layer.0.W": { shape: [2, 3], data: new Float32Array([1, -2, 3.5, 0, 1e-30, -0]) },
    "layer.0.b": { shape: [3], data: new Float32Array([0.25, 0.5, 0.75]) },
    step: { shape: [], data: new Int32Array([-7]) },
    perm: { shape: [4], data: new Uint32Array([3, 0, 4294967295, 1]) },
    loss_hist: { shape: [2], data: new Float64Array([Math.PI, -1e300]) },
    empty: { shape: [0, 5], data: new Float32Array(0) },
  };
}

describe("safetensors", () => {
  it("round-trips every dtype, shape and the metadata through a file", async () => {
    const path = join(dir, "a.safetensors");
    await saveSafetensors(path, sample(), { epoch: "3", model: "RevGCN(112, 64, 2)" });
    const { tensors, metadata } = loadSafetensors(path);
    expect(metadata).toEqual({ epoch: "3", model: "RevGCN(112, 64, 2)" });
    for (const [name, t] of Object.entries(sample())) {
      const got = tensors.get(name)!;
      expect(got.shape).toEqual(t.shape);
      expect(got.data.constructor).toBe(t.data.constructor);
      expect(Array.from(got.data)).toEqual(Array.from(t.data));
    }
    expect(tensors.get("step")!.dtype).toBe("I32");
    expect(Object.is(tensors.get("layer.0.W")!.data[5], -0)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("writes the reference layout: 8-aligned header, widest dtype first, no holes", () => {
    const bytes = concat(encodeSafetensors(sample(), { k: "v" }));
    const n = Number(Buffer.from(bytes).readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString());
    expect(header.__metadata__).toEqual({ k: "v" });
    expect(header.loss_hist).toEqual({ dtype: "F64", shape: [2], data_offsets: [0, 16] });
    expect(header["layer.0.W"]).toEqual({ dtype: "F32", shape: [2, 3], data_offsets: [16, 40] });
    expect(bytes.length).toBe(8 + n + 16 + 24 + 12 + 4 + 16 + 0);
  });

  it("reads a file written by another implementation (hand-built bytes)", () => {
    const json = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    const data = Buffer.from(new Float32Array([1.5, -2]).buffer);
    const f = decodeSafetensors(Buffer.concat([len, Buffer.from(json), data]), "x.safetensors");
    expect(Array.from(f.tensors.get("w")!.data)).toEqual([1.5, -2]);
    expect(f.metadata).toEqual({});
  });

  it("reports truncation and corruption with the file name", () => {
    const good = concat(encodeSafetensors(sample()));
    const path = join(dir, "bad.safetensors");
    const cases: [Uint8Array, string][] = [
      [good.subarray(0, 5), "file is truncated: 5 bytes"],
      [good.subarray(0, 20), "file is truncated: header length is"],
      [good.subarray(0, good.length - 3), "file is truncated: tensors need 72 bytes of data but only 69"],
      [Buffer.concat([good, Buffer.from([0])]), "1 unexpected bytes after the last tensor"],
      [Buffer.alloc(64, 0xff), "header length 18446744073709551615 is implausible"],
    ];
    const h = (json: string): Uint8Array => {
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
      return Buffer.concat([len, Buffer.from(json), Buffer.alloc(8)]);
    };
    cases.push(
      [h("{not json"), "header is not valid UTF-8 JSON"],
      [h('{"a":{"dtype":"BF16","shape":[4],"data_offsets":[0,8]}}'), 'unsupported dtype "BF16"'],
      [h('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}'), "needs 12 bytes but data_offsets span 8"],
      [
        h('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}'),
        "(overlap or hole)",
      ],
      [h('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}'), "invalid shape"],
      [h('{"__metadata__":{"x":1}}'), "__metadata__.x is not a string"],
    );
    for (const [bytes, msg] of cases) {
      writeFileSync(path, bytes);
      let err: unknown;
      try {
        loadSafetensors(path);
      } catch (e) {
        err = e;
      }
      expect(err, msg).toBeInstanceOf(SafetensorsError);
      expect((err as Error).message).toContain(`${path}: `);
      expect((err as Error).message).toContain(msg);
    }
    expect(() => loadSafetensors(join(dir, "missing.safetensors"))).toThrow("cannot read file (ENOENT)");
  });

  it("rejects inconsistent tensors on write", () => {
    expect(() => encodeSafetensors({ a: { shape: [2, 2], data: new Float32Array(3) } })).toThrow("does not match");
    expect(() => encodeSafetensors({ a: { dtype: "I32", shape: [1], data: new Float32Array(1) } })).toThrow();
    expect(() => encodeSafetensors({ __metadata__: { shape: [1], data: new Float32Array(1) } })).toThrow();
  });
});

describe("writeFileAtomic", () => {
  it("replaces files whole and leaves no temporary behind", async () => {
    const p = join(dir, "report.json");
    await writeFileAtomic(p, "old");
    await writeFileAtomic(p, ["{", new Uint8Array([0x22, 0x61, 0x22]), ":1}"]);
    expect(readFileSync(p, "utf8")).toBe('{"a":1}');
    writeFileAtomicSync(p, new Float32Array([1]));
    expect(readFileSync(p).length).toBe(4);
    saveSafetensorsSync(join(dir, "s.safetensors"), { x: { shape: [1], data: new Float64Array([2]) } });
    expect(loadSafetensors(join(dir, "s.safetensors")).tensors.get("x")!.data[0]).toBe(2);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("fails cleanly when the directory does not exist", async () => {
    await expect(writeFileAtomic(join(dir, "no/such/x"), "a")).rejects.toThrow("ENOENT");
    expect(() => writeFileAtomicSync(join(dir, "no/such/x"), "a")).toThrow("ENOENT");
  });
});
