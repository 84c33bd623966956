import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** A loopback TCP proxy in front of one server, which a test cuts off and reconnects at will. */
export interface TcpProxy {
  /** The port the proxy listens on (the same across sever and restore). */
  readonly port: number;
  /** The proxy as a NATS URL, `nats://127.0.0.1:<port>`. */
  readonly url: string;
  /** Whether the proxy is severed now. */
  readonly severed: boolean;
  /** How many client connections it relays now. */
  connections(): number;
  /** Destroys every relayed connection and refuses new ones (the port stops listening) until {@link restore}. */
  sever(): Promise<void>;
  /** Listens again on the same port and relays new connections. */
  restore(): Promise<void>;
  /** Destroys every connection and stops listening for good. */
  close(): Promise<void>;
}

/** Where a {@link TcpProxy} relays to and listens. */
export interface TcpProxyOptions {
  /** The port the target listens on. */
  targetPort: number;
  /** The target host, default 127.0.0.1. */
  targetHost?: string;
  /** The port to listen on, default a free one. */
  port?: number;
}

/** Starts a proxy on 127.0.0.1 relaying every connection, byte for byte, to the target. */
export async function startTcpProxy(opts: TcpProxyOptions): Promise<TcpProxy> {
  const host = opts.targetHost ?? '127.0.0.1';
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  let severed = false;
  let server: Server | undefined;

  const relay = (client: Socket) => {
    const upstream = createConnection({ host, port: opts.targetPort });
    const pair = { client, upstream };
    pairs.add(pair);
    // Either side ending or failing ends both: a dead target looks like a dead server to the client.
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const srv = createServer(relay);
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', () => {
        server = srv;
        const addr = srv.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });

  const shut = async () => {
    const srv = server;
    server = undefined;
    for (const pair of [...pairs]) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    pairs.clear();
    if (srv) await new Promise<void>((resolve) => srv.close(() => resolve()));
  };

  const port = await listen(opts.port ?? 0);
  return {
    port,
    url: `nats://127.0.0.1:${port}`,
    get severed() {
      return severed;
    },
    connections: () => pairs.size,
    async sever() {
      severed = true;
      await shut();
    },
    async restore() {
      if (!severed) return;
      await listen(port);
      severed = false;
    },
    async close() {
      severed = true;
      await shut();
    },
  };
}
