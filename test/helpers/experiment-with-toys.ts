/**
 * `npm run experiment` with the test's toy studies added to the registry (sharding tests run
 * shards as separate processes, which know only the registry). Units run in this process
 * (--workers 1): worker processes would not know the toys.
 */
import { hideBin } from 'yargs/helpers';
import { STUDIES } from '../../experiments/index.js';
import { experimentCli } from '../../src/cli/experiment.js';
import { runMain } from '../../src/cli/main.js';
import { TOY_STUDIES } from './toy-studies.js';

STUDIES.push(...TOY_STUDIES);
await runMain(() => experimentCli(hideBin(process.argv)));
