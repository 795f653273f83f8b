import { defineMatrix } from './matrix-suite.js';

/**
 * The NAT matrix again with one-way delay on every internet link (tc netem, or the lab's delay wire
 * where the kernel has no netem): the same paths must win, and the connect times are recorded.
 */
const DELAY_MS = Number(process.env.BUDDYLINK_LAB_DELAY_MS ?? 20);
defineMatrix(`NAT matrix with ${DELAY_MS} ms delay each way`, DELAY_MS);
