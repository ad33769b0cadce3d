/** A payload that is not a valid spikeflow wire message. Adapters locate it with `at` (topic, port, client). */
export class WireError extends Error {
  override name = 'WireError';
  constructor(
    /** What is wrong, without the location. */
    readonly reason: string,
    /** Where the payload came from, e.g. `mqtt topic sensors/left`; empty when unknown. */
    readonly where = '',
  ) {
    super(where ? `${where}: ${reason}` : reason);
  }

  at(where: string): WireError {
    return new WireError(this.reason, where);
  }
}
