/**
 * Runs one interaction script against a fresh cluster and returns each block's actual output. A
 * harness or core failure inside a block (anything but a TributaryError a caller would see) is
 * recorded as that block's output, prefixed `panic:`, and the script goes on, so a rewrite shows
 * the whole trace; the test fails on any panic whatever the expectation says.
 */
import { commandHandlers } from './command-handlers.js';
import { InteractionEnv } from './interaction-env.js';
import type { ScriptBlock } from './parse-script.js';
import { ScriptCommand } from './script-command.js';

export const panicPrefix = 'panic:';

export function runScript(blocks: readonly ScriptBlock[]): string[] {
  const env = new InteractionEnv();
  return blocks.map((block) => {
    try {
      const command = new ScriptCommand(block.commandLine);
      const handler = commandHandlers.get(command.name);
      if (handler === undefined) throw new Error(`unknown command "${command.name}"`);
      handler(env, command);
      command.assertAllUsed();
      return env.takeOutput();
    } catch (error) {
      const partial = env.takeOutput();
      const reason = error instanceof Error ? (error.stack ?? error.message) : String(error);
      const lines = reason.split('\n').filter((line) => line.trim() !== '');
      return [...(partial === 'ok' ? [] : [partial]), `${panicPrefix} line ${block.line}: ${lines.join('\n')}`].join('\n');
    }
  });
}
