/**
 * Runs async operations one at a time, in the order they were asked for (reloads, loads and
 * unloads must not interleave: each one diffs against the state the previous one left).
 */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.tail.then(operation, operation);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
