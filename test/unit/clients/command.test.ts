import { describe, expect, test } from '@jest/globals';
import { runCommand } from '../../../src/clients/command.js';
import { makeContext } from '../ctx.js';

const NODE = process.execPath;

describe('runCommand', () => {
  test('passes shell metacharacters as literal arguments', async () => {
    const args = ['; rm -rf /', '$(id)', '`id`', '&& echo pwned', '| cat', '*', '$HOME', "'quoted'"];
    const result = await runCommand({ file: '/bin/echo', args, timeoutMs: 10_000 });
    expect(result).toEqual({
      exitCode: 0,
      stdout: args.join(' '),
      stderr: '',
      timedOut: false,
      truncated: false,
      failed: false,
    });
  });

  test('reports a non-zero exit with stdout and stderr', async () => {
    const result = await runCommand({
      file: NODE,
      args: ['-e', 'process.stdout.write("out"); process.stderr.write("err"); process.exitCode = 3'],
      timeoutMs: 10_000,
    });
    expect(result).toEqual({
      exitCode: 3,
      stdout: 'out',
      stderr: 'err',
      timedOut: false,
      truncated: false,
      failed: true,
      error: 'node exited with code 3',
    });
  });

  test('stops a command that outlives its timeout', async () => {
    const result = await runCommand({ file: NODE, args: ['-e', 'setTimeout(() => {}, 60000)'], timeoutMs: 200 });
    expect(result.timedOut).toBe(true);
    expect(result.failed).toBe(true);
    expect(result.exitCode).toBeUndefined();
    expect(result.error).toBe('node timed out after 200 ms');
  });

  test('stops a command when the signal aborts', async () => {
    const controller = new AbortController();
    const running = runCommand({ file: NODE, args: ['-e', 'console.log("up"); setTimeout(() => {}, 60000)'], timeoutMs: 60_000, signal: controller.signal });
    controller.abort();
    const result = await running;
    expect(result.failed).toBe(true);
    expect(result.timedOut).toBe(false);
    expect(result.error).toBe('node was cancelled before it finished');
  });

  test('cuts output at maxOutputBytes instead of crashing', async () => {
    const result = await runCommand({
      file: NODE,
      args: ['-e', 'process.stdout.write("é".repeat(100000))'],
      timeoutMs: 10_000,
      maxOutputBytes: 1000,
    });
    expect(result.truncated).toBe(true);
    expect(result.failed).toBe(true);
    expect(Buffer.byteLength(result.stdout)).toBeLessThanOrEqual(1000);
    expect(result.stdout.startsWith('éééé')).toBe(true);
    expect(result.error).toBe('node stopped: output exceeded 1000 bytes');
  });

  test('a missing program is "not found", not a throw', async () => {
    const result = await runCommand({ file: '/nonexistent/nlserver', args: [], timeoutMs: 1000 });
    expect(result).toEqual({
      exitCode: undefined,
      stdout: '',
      stderr: '',
      timedOut: false,
      truncated: false,
      failed: true,
      error: '/nonexistent/nlserver not found',
    });
  });

  test('passes env on top of the inherited environment', async () => {
    const result = await runCommand({
      file: NODE,
      args: ['-e', 'console.log(process.env.CHECK_MARKER, typeof process.env.PATH)'],
      timeoutMs: 10_000,
      env: { CHECK_MARKER: 'marked' },
    });
    expect(result.stdout).toBe('marked string');
  });

  test('stdin is closed: a command reading it sees end of input at once', async () => {
    const result = await runCommand({
      file: NODE,
      args: ['-e', 'let n = 0; process.stdin.on("data", (d) => (n += d.length)).on("end", () => console.log("eof", n))'],
      timeoutMs: 10_000,
    });
    expect(result.stdout).toBe('eof 0');
  });

  test.each([
    [{ file: 'echo', args: [] }, 'file must be an absolute path, got "echo"'],
    [{ file: './bin/echo', args: [] }, 'file must be an absolute path, got "./bin/echo"'],
    [{ file: '/bin/echo', args: ['ok', 'a\0b'] }, 'argument 1 contains a NUL character: "a\\u0000b"'],
    [{ file: '/bin/echo', args: ['line1\nline2'] }, 'argument 0 contains a line break: "line1\\nline2"'],
    [{ file: '/bin/echo', args: [42 as unknown as string] }, 'argument 0 must be a string, got number'],
  ])('rejects %j at call time', async (opts, message) => {
    await expect(runCommand({ ...opts, timeoutMs: 1000 })).rejects.toThrow(message);
  });

  test('rejects a non-positive timeout', async () => {
    await expect(runCommand({ file: '/bin/echo', args: [], timeoutMs: 0 })).rejects.toThrow('timeoutMs must be a positive number, got 0');
  });
});
