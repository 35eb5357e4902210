/**
 * Reads a password for the CLI without ever echoing it: from stdin when it is
 * not a terminal or when `--password-stdin` is given (one line; a trailing
 * newline is dropped), else by prompting on the terminal with echo off
 * (asked twice).
 */
export async function readPassword(options: { fromStdin: boolean; prompt?: string }): Promise<string> {
  const stdin = process.stdin;
  if (options.fromStdin || !stdin.isTTY) return readAllStdin();
  const first = await promptHidden(options.prompt ?? 'Password: ');
  const second = await promptHidden('Repeat the password: ');
  if (first !== second) throw new Error('the two passwords differ');
  return first;
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return done();
        if (char === '\u0003') return done(new Error('cancelled'));
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    stdin.on('data', onData);
  });
}
