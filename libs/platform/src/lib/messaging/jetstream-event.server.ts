import { Logger } from '@nestjs/common';
import { BaseRpcContext, Server } from '@nestjs/microservices';
import type { CustomTransportStrategy } from '@nestjs/microservices';
import { AckPolicy, connect, DeliverPolicy } from 'nats';
import type { ConsumerMessages, JetStreamManager, JsMsg, MsgHdrs, NatsConnection } from 'nats';
import { lastValueFrom } from 'rxjs';
import { runWithTraceContext } from '../tracing/trace-context';

export interface JetStreamEventServerOptions {
  /** The NATS server(s), comma-separated (NATS_URL). */
  servers: string;
  /** The stream to read, e.g. `TESSERA_EVENTS`. */
  stream: string;
  /** The subject prefix of its events, e.g. `tessera.events.`: a handler's pattern is the rest. */
  subjectPrefix: string;
  /**
   * The durable consumer's name: one per service, shared by its instances (each event is handled
   * once per service), and where it resumes after a restart.
   */
  durable: string;
  /** Makes the stream when it does not exist yet (the publisher may start later). */
  ensureStream?: (manager: JetStreamManager) => Promise<void>;
}

/** The context of an event handler: the subject, the message's headers (the guard reads its token there) and its stream sequence. */
export class JetStreamEventContext extends BaseRpcContext<[string, MsgHdrs | undefined, number]> {
  getSubject(): string {
    return this.args[0];
  }

  getHeaders(): MsgHdrs | undefined {
    return this.args[1];
  }

  /** The event's sequence in the stream. */
  getSequence(): number {
    return this.args[2];
  }
}

const REDELIVERY_DELAY_MS = 1000;
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;
/**
 * How long one pull waits for messages before the next. nats.js derives the rest from it: the
 * broker's heartbeats come every half of it, two missed ones re-pull, and after a failed check
 * (the broker back, its JetStream not yet) it waits this long before the next. Its default,
 * 30 s, left a consumer deaf that long after a broker restart (broker.spec.ts).
 */
const PULL_EXPIRES_MS = 5000;

/**
 * A Nest transport that hands the events of a JetStream stream to `@EventPattern()` handlers
 * through a durable consumer, in stream order: an event is acknowledged once its handler
 * resolves, so a service that stops (or crashes) resumes after the last event it handled and
 * misses none; a handler that throws gets the event again a second later. Handlers run through
 * Nest's pipeline, so guards, pipes and filters apply as for any message handler; each runs in a
 * consumer span that continues the publisher's trace. An event without a handler is acknowledged.
 *
 * Made by createJetStreamEventServer, which loads this file (and the NATS client) on demand.
 */
export class JetStreamEventServer extends Server implements CustomTransportStrategy {
  private readonly log = new Logger(JetStreamEventServer.name);
  private connection?: NatsConnection;
  private messages?: ConsumerMessages;
  private running?: Promise<void>;
  private stopped = false;
  private wake?: () => void;

  constructor(private readonly options: JetStreamEventServerOptions) {
    super();
  }

  listen(callback: (error?: unknown) => void): void {
    this.running = this.run();
    callback();
  }

  /** Stops taking events, lets the one in hand finish and be acknowledged, then disconnects. */
  async close(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.messages?.stop();
    await this.running;
    await this.connection?.drain().catch(() => undefined);
  }

  on(): never {
    throw new Error('JetStreamEventServer has no events to listen to');
  }

  unwrap<T>(): T {
    return this.connection as T;
  }

  private async run(): Promise<void> {
    let retry = FIRST_RETRY_MS;
    while (!this.stopped) {
      try {
        await this.consume();
        retry = FIRST_RETRY_MS;
      } catch (error) {
        if (this.stopped) return;
        this.log.warn(
          `Events of ${this.options.stream}: ${error instanceof Error ? error.message : error}; retrying`,
        );
      }
      if (this.stopped) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, retry).unref();
      });
      retry = Math.min(retry * 2, MAX_RETRY_MS);
    }
  }

  private async consume(): Promise<void> {
    this.connection ??= await connect({
      servers: this.options.servers.split(','),
      name: this.options.durable,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
    const manager = await this.connection.jetstreamManager();
    await this.options.ensureStream?.(manager);
    await manager.consumers.add(this.options.stream, {
      durable_name: this.options.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: `${this.options.subjectPrefix}>`,
      // One event at a time, in order: a handler sees an event only after the previous one's.
      max_ack_pending: 1,
    });
    const consumer = await this.connection
      .jetstream()
      .consumers.get(this.options.stream, this.options.durable);
    this.messages = await consumer.consume({ max_messages: 64, expires: PULL_EXPIRES_MS });
    for await (const message of this.messages) {
      // Stopping: given back at once, for the next instance (or this one, restarted).
      if (this.stopped) message.nak();
      else await this.handle(message);
    }
  }

  private async handle(message: JsMsg): Promise<void> {
    const pattern = message.subject.slice(this.options.subjectPrefix.length);
    const handler = this.getHandlerByPattern(pattern);
    if (!handler) {
      message.ack();
      return;
    }
    const context = new JetStreamEventContext([message.subject, message.headers, message.seq]);
    try {
      await runWithTraceContext(
        headerRecord(message.headers),
        `${pattern} process`,
        async () => {
          // Nest's pipeline turns a thrown error (a guard's refusal included) into an erroring observable.
          await lastValueFrom(this.transformToObservable(await handler(message.json(), context)), {
            defaultValue: undefined,
          });
        },
        { 'messaging.system': 'nats', 'messaging.destination.name': message.subject },
      );
      message.ack();
    } catch (error) {
      if (isRefusal(error)) {
        // The guard turned it away: no later delivery will carry a better token.
        this.log.warn(`Event ${message.seq} (${pattern}) refused by the guard: ${describe(error)}`);
        message.term();
        return;
      }
      this.log.warn(
        `Event ${message.seq} (${pattern}) failed, delivered again in ${REDELIVERY_DELAY_MS / 1000} s: ` +
          describe(error),
      );
      message.nak(REDELIVERY_DELAY_MS);
    }
  }
}

function headerRecord(headers: MsgHdrs | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  for (const [name, values] of headers ?? []) record[name.toLowerCase()] = values[0] ?? '';
  return record;
}

function isRefusal(error: unknown): boolean {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return status === 401 || status === 403;
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'object' ? JSON.stringify(error) : String(error);
}
