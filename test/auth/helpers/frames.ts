import type { Socket } from "node:net";
import { FrameKind, HEADER_BYTES, readU32, writeHeader } from "../../../runtime/wire/header.js";

export { FrameKind };

/** Writes one frame (header + body) the way the runtime lays it out. */
export function writeFrame(socket: Socket, kind: FrameKind, seq: number, body: Uint8Array): void {
  const frame = new Uint8Array(HEADER_BYTES + body.length);
  writeHeader(frame, 0, kind, 0, 0, 0, seq, 0, 0, body.length);
  frame.set(body, HEADER_BYTES);
  socket.write(frame);
}

/** Calls `onFrame` for every complete frame read from `socket` (test-sized frames only). */
export function readFrames(socket: Socket, onFrame: (kind: FrameKind, seq: number, body: Uint8Array) => void): void {
  let buffered = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= HEADER_BYTES) {
      const length = readU32(buffered, 20);
      if (length > 1 << 16) throw new Error(`test frame reader: body of ${length} bytes`);
      if (buffered.length < HEADER_BYTES + length) break;
      const kind = buffered[3] as FrameKind;
      const seq = readU32(buffered, 8);
      const body = new Uint8Array(buffered.subarray(HEADER_BYTES, HEADER_BYTES + length));
      buffered = buffered.subarray(HEADER_BYTES + length);
      onFrame(kind, seq, body);
    }
  });
}
