/** The `spikeflow` command: dispatches to subcommands and turns errors into clear messages. */
import { inspect, inspectHelp } from './commands/inspect.js';
import { convert, convertHelp } from './commands/convert.js';
import { demo, demoHelp } from './commands/demo.js';
import { emulate, emulateHelp } from './commands/emulate.js';
import { simulate, simulateHelp } from './commands/simulate.js';
import { run, runHelp } from './commands/run.js';
import { validate, validateHelp } from './commands/validate.js';
import { list, listHelp } from './commands/list.js';
import { UsageError } from './args.js';
import { FORMATS } from '../formats/registry.js';

type Command = (argv: string[], print: (s: string) => void) => number | Promise<number>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  demo: { run: demo, help: demoHelp },
  emulate: { run: emulate, help: emulateHelp },
  inspect: { run: inspect, help: inspectHelp },
  convert: { run: convert, help: convertHelp },
  simulate: { run: simulate, help: simulateHelp },
  run: { run, help: runHelp }, validate: { run: validate, help: validateHelp }, list: { run: list, help: listHelp },
  formats: {
    run: (_argv, print) => {
      for (const f of FORMATS) print(`${f.name.padEnd(8)} ${f.createEncoder ? 'read/write' : 'read      '} ${f.extensions.join(' ').padEnd(14)} ${f.description}`);
      return 0;
    },
    help: 'spikeflow formats\n  Lists the event formats, whether they can be written, and their extensions.',
  },
};

export function registerCommand(name: string, run: Command, help: string): void {
  COMMANDS[name] = { run, help };
}

function usage(): string {
  return `usage: spikeflow <command> [options]\n\ncommands:\n${Object.values(COMMANDS)
    .map((c) => '  ' + c.help.split('\n').join('\n  '))
    .join('\n\n')}`;
}

export async function main(argv: string[], print: (s: string) => void = (s) => console.log(s)): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    print(usage());
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    console.error(`spikeflow: unknown command '${name}'\n${usage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    print(cmd.help);
    return 0;
  }
  try {
    return await cmd.run(rest, print);
  } catch (e) {
    const err = e as Error;
    console.error(`spikeflow ${name}: ${err.message}`);
    return err instanceof UsageError ? 2 : 1;
  }
}
