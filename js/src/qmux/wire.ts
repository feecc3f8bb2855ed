// The qmux message layout (spec/qmux.md section 2), as Go's mux/qmux/wire.go:
// SSH's channel messages renumbered 100 to 106, every integer a big-endian
// uint32, no framing around a message.

import { QtalkMuxError } from "../errors.js";

export const msgChannelOpen = 100; // sender channel, initial window, max packet
export const msgChannelOpenConfirm = 101; // recipient channel, sender channel, initial window, max packet
export const msgChannelOpenFailure = 102; // recipient channel
export const msgChannelWindowAdjust = 103; // recipient channel, bytes to add
export const msgChannelData = 104; // recipient channel, payload length, payload
export const msgChannelEOF = 105; // recipient channel
export const msgChannelClose = 106; // recipient channel

/** The longest fixed part of any message, type byte included (OPEN_CONFIRMATION). */
export const maxHeaderLength = 17;

/** The largest value of a uint32 field, and so of a window. */
export const maxUint32 = 0xffffffff;

/**
 * Returns the length of the fixed part of a message of type `type`, type
 * byte included, or 0 for an unknown type. For DATA it covers the recipient
 * channel and the payload length, not the payload.
 */
export function headerLength(type: number): number {
  switch (type) {
    case msgChannelOpen:
      return 13;
    case msgChannelOpenConfirm:
      return 17;
    case msgChannelOpenFailure:
    case msgChannelEOF:
    case msgChannelClose:
      return 5;
    case msgChannelWindowAdjust:
    case msgChannelData:
      return 9;
  }
  return 0;
}

/** One message header. Fields a message type lacks are 0. */
export interface Frame {
  type: number;
  /** The receiver's channel number; unused for OPEN. */
  recipient: number;
  /** The sender's channel number (OPEN, OPEN_CONFIRMATION). */
  sender: number;
  /** Initial window (OPEN, OPEN_CONFIRMATION) or bytes to add (WINDOW_ADJUST). */
  window: number;
  /** OPEN, OPEN_CONFIRMATION. */
  maxPacket: number;
  /** DATA payload length; the payload follows the header. */
  length: number;
}

/** A Frame with every field but type defaulted to 0. */
export function frame(fields: Partial<Frame> & { type: number }): Frame {
  return { recipient: 0, sender: 0, window: 0, maxPacket: 0, length: 0, ...fields };
}

function readUint32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function writeUint32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = v >>> 16;
  b[at + 2] = v >>> 8;
  b[at + 3] = v;
}

/**
 * Decodes the header at b[at], which must hold headerLength(b[at]) bytes of
 * a known type.
 */
export function parseFrame(b: Uint8Array, at = 0): Frame {
  const type = b[at]!;
  const u0 = readUint32(b, at + 1);
  switch (type) {
    case msgChannelOpen:
      return { type, recipient: 0, sender: u0, window: readUint32(b, at + 5), maxPacket: readUint32(b, at + 9), length: 0 };
    case msgChannelOpenConfirm:
      return {
        type,
        recipient: u0,
        sender: readUint32(b, at + 5),
        window: readUint32(b, at + 9),
        maxPacket: readUint32(b, at + 13),
        length: 0,
      };
    case msgChannelWindowAdjust:
      return { type, recipient: u0, sender: 0, window: readUint32(b, at + 5), maxPacket: 0, length: 0 };
    case msgChannelData:
      return { type, recipient: u0, sender: 0, window: 0, maxPacket: 0, length: readUint32(b, at + 5) };
  }
  return { type, recipient: u0, sender: 0, window: 0, maxPacket: 0, length: 0 };
}

/**
 * Encodes f's header into b at `at` and returns the offset after it. For
 * DATA, the caller puts the f.length payload bytes after it.
 */
export function putFrame(b: Uint8Array, at: number, f: Frame): number {
  b[at] = f.type;
  const fields = fieldsOf(f);
  for (let i = 0; i < fields.length; i++) writeUint32(b, at + 1 + 4 * i, fields[i]!);
  return at + 1 + 4 * fields.length;
}

function fieldsOf(f: Frame): number[] {
  switch (f.type) {
    case msgChannelOpen:
      return [f.sender, f.window, f.maxPacket];
    case msgChannelOpenConfirm:
      return [f.recipient, f.sender, f.window, f.maxPacket];
    case msgChannelWindowAdjust:
      return [f.recipient, f.window];
    case msgChannelData:
      return [f.recipient, f.length];
  }
  return [f.recipient];
}

/** Encodes f's header into a new array (tests and one-off messages). */
export function encodeFrame(f: Frame): Uint8Array {
  const b = new Uint8Array(headerLength(f.type));
  putFrame(b, 0, f);
  return b;
}

/** Puts a header of one channel number and one optional uint32 (the hot path: DATA, adjusts, EOF, CLOSE). */
export function putShortFrame(b: Uint8Array, at: number, type: number, recipient: number, value?: number): number {
  b[at] = type;
  writeUint32(b, at + 1, recipient);
  if (value === undefined) return at + 5;
  writeUint32(b, at + 5, value);
  return at + 9;
}

/** An error of kind "protocol": the peer broke a rule of spec/qmux.md section 9, named by detail. */
export function protocolError(detail: string): QtalkMuxError {
  return new QtalkMuxError("protocol", `qmux: ${detail}`);
}
