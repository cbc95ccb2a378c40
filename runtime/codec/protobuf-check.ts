/**
 * A wire-level check of a protobuf body's top level, run before the generated decoder: every
 * field has a number other than 0 and a known wire type, every varint ends, and every fixed or
 * length-delimited value lies within the body. ts-proto's decode() stops at a 0 byte where a tag
 * should be and accepts a body cut short that way (`12 02 00`: a 2-byte field with 1 byte left,
 * which is 0) as a valid, shorter message; this check refuses it. Nested messages are checked by
 * their own decoders' bounds. Returns undefined when the body is well formed, or what is wrong.
 */
export function checkProtobufTopLevel(bytes: Uint8Array): string | undefined {
  const end = bytes.length;
  let pos = 0;
  while (pos < end) {
    const fieldStart = pos;
    let tag = 0;
    let shift = 0;
    let byte: number;
    do {
      if (pos >= end) return `a field tag is cut short at byte ${fieldStart}`;
      if (shift > 28) return `a field tag at byte ${fieldStart} is longer than 5 bytes`;
      byte = bytes[pos++]!;
      tag += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte >= 0x80);
    if (tag >>> 3 === 0) return `field number 0 at byte ${fieldStart}`;
    switch (tag & 7) {
      case 0: {
        const start = pos;
        while (pos < end && bytes[pos]! >= 0x80) pos++;
        if (pos >= end) return `the varint of field ${tag >>> 3} at byte ${fieldStart} is cut short`;
        pos++;
        if (pos - start > 10) return `the varint of field ${tag >>> 3} at byte ${fieldStart} is longer than 10 bytes`;
        break;
      }
      case 1:
        pos += 8;
        if (pos > end) return `the 8-byte value of field ${tag >>> 3} at byte ${fieldStart} is cut short`;
        break;
      case 2: {
        let length = 0;
        shift = 0;
        do {
          if (pos >= end) return `the length of field ${tag >>> 3} at byte ${fieldStart} is cut short`;
          if (shift > 28) return `the length of field ${tag >>> 3} at byte ${fieldStart} is longer than 5 bytes`;
          byte = bytes[pos++]!;
          length += (byte & 0x7f) * 2 ** shift;
          shift += 7;
        } while (byte >= 0x80);
        pos += length;
        if (pos > end) return `field ${tag >>> 3} at byte ${fieldStart} announces ${length} bytes, ${end - (pos - length)} are left`;
        break;
      }
      case 3:
      case 4:
        // proto2 group start and end: their fields follow at this level.
        break;
      case 5:
        pos += 4;
        if (pos > end) return `the 4-byte value of field ${tag >>> 3} at byte ${fieldStart} is cut short`;
        break;
      default:
        return `field ${tag >>> 3} at byte ${fieldStart} has wire type ${tag & 7}, which does not exist`;
    }
  }
  return undefined;
}
