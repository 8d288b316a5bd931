// The reference point of `bash bench/run.sh slack`: a Bolt for JavaScript app that verifies each
// request's signature (as Bolt always does) and only acknowledges /ship, on loopback.
// Usage: node app.js <port> ; the signing secret comes from SLACK_SIGNING_SECRET.
const { App, LogLevel } = require('@slack/bolt');

const port = Number(process.argv[2] || 3000);
const app = new App({
  signingSecret: process.env.SLACK_SIGNING_SECRET,
  token: 'xoxb-bench',
  // Nothing leaves this machine: no auth.test at start or per request (the bot's ids are given),
  // and the Web API client points at a closed loopback port.
  tokenVerificationEnabled: false,
  botId: 'B0SHIPBENCH',
  botUserId: 'U0SHIPBENCH',
  clientOptions: { slackApiUrl: 'http://127.0.0.1:9/api/' },
  endpoints: '/slack/commands',
  logLevel: process.env.BOLT_LOG_LEVEL || LogLevel.ERROR,
});

app.command('/ship', async ({ ack }) => {
  await ack();
});

(async () => {
  await app.start({ port, host: '127.0.0.1' });
  console.log(`bolt listening on ${port}`);
})();
