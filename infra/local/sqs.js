// Starts the SQS emulator (local-aws-sqs) on 127.0.0.1. Usage: node sqs.js PORT
const { createSqsServer } = require("local-aws-sqs");

const port = Number(process.argv[2] || 9324);
createSqsServer({ port, hostname: "127.0.0.1", emulateQueueCreationLifecycle: false })
  .then(() => console.log(`sqs emulator listening on 127.0.0.1:${port}`))
  .catch((err) => {
    console.error(`sqs emulator failed: ${err.message}`);
    process.exit(1);
  });
