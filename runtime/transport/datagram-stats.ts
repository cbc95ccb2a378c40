/**
 * Counters of a datagram connection, listener or transport (a transport's count every
 * connection of the process; a listener's count its peers' and what arrived for no peer).
 * They only grow. What each counts:
 */
export interface DatagramCounters {
  /** Received with a missing or wrong authentication tag after the session was bound (or a tag before it was). */
  droppedSpoofed: number;
  /** Received with a valid tag but a datagram counter already seen or too old (replay guard). */
  droppedReplayed: number;
  /** Requests (client), unanswered handshake frames and CONNECTs sent again after their retransmission timer ran out. */
  retransmitted: number;
  /** Received again: a request already running or answered (server), a reply already delivered (client), a handshake frame already seen. */
  duplicates: number;
  /** Received datagrams that are not one well-formed frame, or a frame above the receive limit. */
  droppedMalformed: number;
  /** Frames not sent because they exceed the datagram limit (requests and replies are answered RESOURCE_EXHAUSTED instead). */
  droppedOversize: number;
  /** Datagrams the socket refused to send (buffer full, peer gone): retransmission covers requests and handshakes. */
  sendFailures: number;
  /** Datagrams dropped on purpose by the fault-injection knob dropEvery. */
  faultDropped: number;
  /** Cached replies forgotten to stay within the cache bound before the client acknowledged them (server). */
  cacheEvicted: number;
}

export type DatagramCounter = keyof DatagramCounters;

export class DatagramStats implements DatagramCounters {
  droppedSpoofed = 0;
  droppedReplayed = 0;
  retransmitted = 0;
  duplicates = 0;
  droppedMalformed = 0;
  droppedOversize = 0;
  sendFailures = 0;
  faultDropped = 0;
  cacheEvicted = 0;

  /** `parent` (a listener's or transport's stats) is counted along. */
  constructor(private readonly parent?: DatagramStats) {}

  count(counter: DatagramCounter, n = 1): void {
    this[counter] += n;
    this.parent?.count(counter, n);
  }

  /** A plain copy, for logs and tests. */
  snapshot(): DatagramCounters {
    return {
      droppedSpoofed: this.droppedSpoofed,
      droppedReplayed: this.droppedReplayed,
      retransmitted: this.retransmitted,
      duplicates: this.duplicates,
      droppedMalformed: this.droppedMalformed,
      droppedOversize: this.droppedOversize,
      sendFailures: this.sendFailures,
      faultDropped: this.faultDropped,
      cacheEvicted: this.cacheEvicted,
    };
  }
}
