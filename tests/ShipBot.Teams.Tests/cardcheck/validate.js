// Parses every *.json card in a directory with the adaptivecards npm package (targeting schema 1.5)
// and prints one JSON report on stdout: { version, cards: [{ file, events: [...] }] }.
//
// Every event is reported: parse events (context.eventCount / getEventAt) and the results of
// card.validateProperties(). Filtering, if any, is the C# test's job, so that what is ignored is
// visible in one place.
//
// Usage: node validate.js <directory-of-card-json-files>
"use strict";

const fs = require("fs");
const path = require("path");

// adaptivecards 3.0.6's "main" (lib/adaptivecards.js) is ES module code with extensionless
// imports that Node cannot resolve; the UMD bundle in dist/ is the same code, built for require().
const AdaptiveCards = require("adaptivecards/dist/adaptivecards.js");
const packageVersion = require("adaptivecards/package.json").version;

function describe(e, origin) {
  return {
    origin,
    phase: AdaptiveCards.ValidationPhase[e.phase],
    event: AdaptiveCards.ValidationEvent[e.event],
    message: e.message,
    source: e.source && typeof e.source.getJsonTypeName === "function" ? e.source.getJsonTypeName() : undefined,
  };
}

function check(json) {
  const events = [];
  const context = new AdaptiveCards.SerializationContext(AdaptiveCards.Versions.v1_5);
  const card = new AdaptiveCards.AdaptiveCard();
  card.parse(json, context);
  for (let i = 0; i < context.eventCount; i++) {
    events.push(describe(context.getEventAt(i), "parse"));
  }

  const results = card.validateProperties();
  for (const e of results.validationEvents) {
    events.push(describe(e, "validate"));
  }

  // The card must round-trip at the version it claims: a card the SDK does not accept as 1.5 is
  // not a 1.5 card, whatever its "version" says.
  if (!card.version || card.version.toString() !== "1.5") {
    events.push({ origin: "version", event: "UnsupportedCardVersion", message: `parsed version ${card.version}` });
  }

  return events;
}

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node validate.js <directory>");
  process.exit(2);
}

const cards = fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort().map((file) => {
  let events;
  try {
    events = check(JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")));
  } catch (err) {
    events = [{ origin: "exception", event: "Exception", message: String(err && err.stack || err) }];
  }

  return { file, events };
});

process.stdout.write(JSON.stringify({ version: packageVersion, cards }, null, 1));
