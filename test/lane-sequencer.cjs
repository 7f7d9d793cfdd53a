// jest's default test sequencer, with `--shard=k/n` splitting the test files by their expected
// duration instead of by count: scripts/test.mjs runs n jest processes side by side (its "lanes"),
// one per shard, and the run lasts as long as the slowest lane. Files are handed out longest first,
// each to the lane with the least work so far (seconds from test/durations.json; a file not listed
// there counts DEFAULT_SECONDS). The split depends only on the set of files selected, so every lane
// computes the same one. Refresh the table with `TEST_TIMINGS_FILE=test/durations.json npm test`.
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;
const durations = require('./durations.json');

const DEFAULT_SECONDS = 2;

class LaneSequencer extends Sequencer {
  shard(tests, { shardIndex, shardCount }) {
    const seconds = (test) => durations[path.relative(test.context.config.rootDir, test.path)] ?? DEFAULT_SECONDS;
    const ordered = [...tests].sort((a, b) => seconds(b) - seconds(a) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const load = Array.from({ length: shardCount }, () => 0);
    const lanes = Array.from({ length: shardCount }, () => []);
    for (const test of ordered) {
      const lane = load.indexOf(Math.min(...load));
      lanes[lane].push(test);
      load[lane] += seconds(test);
    }
    return lanes[shardIndex - 1];
  }
}

module.exports = LaneSequencer;
