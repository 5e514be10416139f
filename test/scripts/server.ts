/**
 * A local HTTP server on 127.0.0.1 for the download tests: serves the files a test made, honours
 * Range requests as a real server does, records every request, and can cut a transfer half way.
 */
import * as crypto from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';

export interface ServedRequest {
  path: string;
  range?: string;
}

export interface TestServer {
  url: string;
  requests: ServedRequest[];
  /** Serve `body` at `path` (a decoded URL path such as '/cpu/libtorch-...+cpu.zip'). */
  serve(path: string, body: Buffer): void;
  /** The next `times` transfers of `path` stop after `bytes` bytes: the socket is destroyed. */
  cutAfter(path: string, bytes: number, times?: number): void;
  close(): Promise<void>;
}

export async function startServer(): Promise<TestServer> {
  const files = new Map<string, Buffer>();
  const cuts = new Map<string, { bytes: number; times: number }>();
  const requests: ServedRequest[] = [];
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const range = req.headers.range;
    requests.push({ path, range });
    const body = files.get(path);
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    let start = 0;
    const m = range?.match(/^bytes=(\d+)-$/);
    if (m && Number(m[1]) < body.length) start = Number(m[1]);
    const part = body.subarray(start);
    res.writeHead(start > 0 ? 206 : 200, {
      'content-length': String(part.length),
      'accept-ranges': 'bytes',
      ...(start > 0 ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    const cut = cuts.get(path);
    if (cut && cut.times > 0) {
      cut.times -= 1;
      res.write(part.subarray(0, cut.bytes), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(part);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    serve: (path, body) => files.set(path, body),
    cutAfter: (path, bytes, times = 1) => cuts.set(path, { bytes, times }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A port on 127.0.0.1 where nothing listens: what "no network" looks like to a client. */
export async function closedPort(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

export function sha256(bytes: Buffer): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

export function md5(bytes: Buffer): string {
  return crypto.createHash('md5').update(bytes).digest('hex');
}
