// Starts the SQS emulator (local-aws-sqs) on 127.0.0.1. Usage: node sqs.js PORT
//
// local-aws-sqs 2.0.2 takes FIFO queues (MessageGroupId, MessageDeduplicationId, sequence numbers, a
// FIFO dead-letter queue) but its ReceiveMessage ignores message groups: it hands out any visible
// message, so two consumers could hold one group's messages at once. SQS does not, and the reader
// pipeline relies on it (docs/decisions/0013). This file loads the package's bundle and replaces the
// receive loop, for FIFO queues only, with SQS's delivery logic:
//   - a message group with a message in flight (received, not yet deleted, visibility not run out)
//     delivers nothing: its next message waits until the one in flight is deleted, becomes visible
//     again or moves to the dead-letter queue;
//   - a group's messages are delivered in the order they were sent, never one before an earlier one;
//   - a receive takes as many messages of one group as it can before the next group ("first attempts
//     to return as many messages with the same message group ID as possible", the SQS developer guide),
//     so that other consumers get the other groups;
//   - a long poll returns as soon as it has a message (SQS does; the unpatched emulator waits for
//     MaxNumberOfMessages, which infra/sqsrunner's batching window relies on for standard queues, so
//     standard queues keep that behaviour).
// The patch is a text replacement of one loop of the pinned version; if the loop is not found (another
// version), the emulator refuses to start instead of serving FIFO queues without group locks.
const fs = require("fs");
const path = require("path");
const Module = require("module");

const file = require.resolve("local-aws-sqs");
const source = fs.readFileSync(file, "utf8");
const loop =
  "c=setInterval(()=>{d++;for(let y of S(this,E))if(!y.delayed){if(y.visible){l(this,D,Wt).call(this,y,i);let f=ke({},y);f.record=ke({},f.record),f.record.attributes=ke({},f.record.attributes),r.push(f)}if(r.length==e){clearInterval(c),clearTimeout(n),o();break}}},10)";
// In the bundle: S(this,E) is the queue's records in send order, each {visible, delayed, record};
// Wt(y, i) makes y in flight for i seconds (or the queue's visibility timeout); r collects the answer,
// e is MaxNumberOfMessages, o() ends the poll.
const fifoLoop =
  "c=setInterval(()=>{d++;if(this.FifoQueue){let g=__fifoPick(S(this,E),r,e);for(let y of g){l(this,D,Wt).call(this,y,i);let f=ke({},y);f.record=ke({},f.record),f.record.attributes=ke({},f.record.attributes),r.push(f)}if(r.length>0){clearInterval(c),clearTimeout(n),o()}return}" +
  "for(let y of S(this,E))if(!y.delayed){if(y.visible){l(this,D,Wt).call(this,y,i);let f=ke({},y);f.record=ke({},f.record),f.record.attributes=ke({},f.record.attributes),r.push(f)}if(r.length==e){clearInterval(c),clearTimeout(n),o();break}}},10)";
if (source.split(loop).length !== 2) {
  console.error("sqs emulator: local-aws-sqs is not the version infra/local/sqs.js patches (2.0.2); FIFO queues would not lock message groups");
  process.exit(1);
}

// fifoPick chooses up to max-len(taken) records to deliver from records (in send order): whole groups
// first, a group only when none of its messages is in flight or delayed before the ones taken.
function fifoPick(records, taken, max) {
  const room = max - taken.length;
  if (room <= 0) return [];
  const blocked = new Set();
  const byGroup = new Map(); // group → its deliverable records, in order; Map keeps the groups' order
  for (const y of records) {
    const g = y.record.attributes.MessageGroupId;
    if (blocked.has(g)) continue;
    if (!y.visible || y.delayed) {
      blocked.add(g); // in flight (or not yet due): the group waits, and nothing after it goes first
      byGroup.delete(g);
      continue;
    }
    if (!byGroup.has(g)) byGroup.set(g, []);
    byGroup.get(g).push(y);
  }
  const out = [];
  for (const ys of byGroup.values()) {
    for (const y of ys) {
      if (out.length === room) return out;
      out.push(y);
    }
  }
  return out;
}

const m = new Module(file, module);
m.filename = file;
m.paths = Module._nodeModulePaths(path.dirname(file));
global.__fifoPick = fifoPick;
m._compile(source.replace(loop, fifoLoop), file);
const { createSqsServer } = m.exports;

const port = Number(process.argv[2] || 9324);
createSqsServer({ port, hostname: "127.0.0.1", emulateQueueCreationLifecycle: false })
  .then(() => console.log(`sqs emulator listening on 127.0.0.1:${port}`))
  .catch((err) => {
    console.error(`sqs emulator failed: ${err.message}`);
    process.exit(1);
  });
