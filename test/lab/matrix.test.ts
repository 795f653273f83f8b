import { defineMatrix } from './matrix-suite.js';

/**
 * The NAT matrix (issue 5) on real Linux NATs: the real CLI in lab namespaces, each row's path
 * asserted and the file checked by SHA-256, the server's output and the wires checked for addresses.
 */
defineMatrix('NAT matrix', 0);
