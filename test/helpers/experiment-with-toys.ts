/**
 * `npm run experiment` with the test's toy studies in its registry (sharding tests run shards
 * as separate processes). Worker processes find the toys too: they import the same registry.
 */
import { hideBin } from 'yargs/helpers';
import { experimentCli } from '../../src/cli/experiment.js';
import { runMain } from '../../src/cli/main.js';
import { TOY_REGISTRY } from './toy-registry.js';

await runMain(() => experimentCli(hideBin(process.argv), TOY_REGISTRY));
