// One error class for every malformed, truncated or unsupported checkpoint, so callers can
// tell "this file is bad" from programming errors with a single instanceof check.

export class SerializationError extends Error {
  override readonly name = 'SerializationError';
}
