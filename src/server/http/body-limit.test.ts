import { describe, expect, it } from 'vitest';
import { limitBody } from './body-limit';

const post = (body: BodyInit, headers: Record<string, string> = {}) =>
  new Request('http://localhost/api/trpc/x', {
    method: 'POST',
    body,
    headers,
    duplex: 'half',
  } as RequestInit);

describe('limitBody', () => {
  it('answers 413 when Content-Length is over the limit', async () => {
    const res = limitBody(post('x'.repeat(20), { 'content-length': '20' }), 10);
    expect(res).toBeInstanceOf(Response);
    expect((res as Response).status).toBe(413);
    expect(await (res as Response).json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
  });

  it('passes bodies within the limit unchanged', async () => {
    const req = limitBody(post('{"json":1}'), 100) as Request;
    expect(await req.text()).toBe('{"json":1}');
  });

  it('fails a streamed body that grows past the limit', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(8));
        controller.close();
      },
    });
    const req = limitBody(post(stream), 16) as Request;
    await expect(req.text()).rejects.toThrow();
  });
});
