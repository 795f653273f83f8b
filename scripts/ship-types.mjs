// Ships the hand-written declarations of udx-native and @hyperswarm/secret-stream (neither has its
// own) with the package: tsc emits no .d.ts for a .d.ts source, so the published declarations would
// import modules a consumer cannot type (TS7016 under skipLibCheck: false). Run after tsc (prepack).
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';

copyFileSync('src/client/vendor.d.ts', 'dist/src/client/vendor.d.ts');
const reference = '/// <reference path="./client/vendor.d.ts" />\n';
for (const file of ['dist/src/index.d.ts']) {
  const text = readFileSync(file, 'utf8');
  if (!text.startsWith(reference)) writeFileSync(file, reference + text);
}
const serverReference = '/// <reference path="../client/vendor.d.ts" />\n';
for (const file of ['dist/src/server/start.d.ts']) {
  const text = readFileSync(file, 'utf8');
  if (!text.startsWith(serverReference)) writeFileSync(file, serverReference + text);
}
