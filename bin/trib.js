#!/usr/bin/env node
// The `trib` program: compiled by `npm run build` (run by `prepare` on install) into dist/.
import '../dist/cli/main.js';
