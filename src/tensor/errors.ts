/** Errors the tensor layer raises: an op name, what it was given, and libtorch's own words. */
export class TensorOpError extends Error {
  override readonly name = 'TensorOpError';
  constructor(
    readonly op: string,
    readonly inputs: readonly string[],
    override readonly cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`${op}(${inputs.join(', ')}): ${reason}`);
  }
}
