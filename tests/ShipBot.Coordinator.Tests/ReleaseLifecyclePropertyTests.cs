using System.Text;
using CsCheck;
using NSubstitute;
using ShipBot.Core.Cards;
using ShipBot.Core.Health;
using ShipBot.Core.Plans;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using static ShipBot.Coordinator.Tests.CoordinatorHarness;

namespace ShipBot.Coordinator.Tests;

/// <summary>
/// A stateful property test of the lifecycle's safety: random interleavings of typed commands,
/// fresh, stale and repeated button clicks, timer firings with a fake clock, health changes and
/// pushed alerts, driven through the coordinator, with five invariants checked after every step:
/// <list type="number">
/// <item>no stage bakes for less than its configured time unless an approver who is not the
/// requester promoted it early, and each such promotion is audited;</item>
/// <item>each distinct click causes at most one transition;</item>
/// <item>a decision only ever affects its own breach;</item>
/// <item>a terminal release never changes again;</item>
/// <item>the deployment target is never told about a release that is not the service's active one.</item>
/// </list>
/// </summary>
public sealed class ReleaseLifecyclePropertyTests
{
    private static readonly Actor[] Actors = [Alice, Bob, Carol, Dave, Mallory];

    private static readonly string Items = "qa rollback flags migrations dashboards env db errors health deploydoc rollbacktest https ratelimit";

    /// <summary>Typed commands, weighted towards the ones that move a release along; {id} is the newest release, {old} the oldest active one.</summary>
    private static readonly (int Weight, string Actor, string Command)[] Commands =
    [
        (8, "alice", "start demo {next}"),
        (12, "alice", $"check {{id}} {Items}"),
        (8, "alice", "check {id} ufv"),
        (12, "bob", "approve {id}"),
        (2, "alice", "approve {id}"),
        (6, "bob", "promote {id}"),
        (4, "alice", "promote {id} my own release"),
        (2, "dave", "promote {id}"),
        (4, "carol", "pause {id}"),
        (6, "carol", "resume {id}"),
        (1, "alice", "rollback {id} customer reports"),
        (2, "carol", "rollback {old} old one"),
        (1, "dave", "rollback {id} emergency"),
        (1, "bob", "abort {id} not now"),
        (1, "bob", "reject {id} not now"),
        (6, "carol", "decide {id} continue"),
        (4, "carol", "decide {id} hold"),
        (1, "dave", "decide {id} rollback"),
        (2, "carol", "halt demo looking into it"),
        (6, "carol", "unhalt demo looked"),
        (2, "bob", "waive {id} qa covered"),
        (2, "alice", "waive {id} qa covered"),
        (2, "mallory", "promote {id}"),
        (4, "carol", "flag-removed {id} beta"),
    ];

    private static readonly string[] Profiles = ["healthy", "healthy", "latency", "feedback", "business", "error"];

    [Fact]
    public async Task Lifecycle_RandomInterleavings_KeepTheFiveSafetyInvariants()
    {
        var typed = Gen.Frequency<Op>(Commands.Select(c => (c.Weight, (Op)new Typed(c.Actor, c.Command))).ToArray());
        var op = Gen.Frequency<Op>(
        [
            (15, typed),
            (15, Gen.Select(Gen.Int[0, 2 * Actors.Length - 1], Gen.Int[0, 1000], (a, pick) => (Op)new Click(ActorOrRole(a), pick, Stale: false))),
            (6, Gen.Select(Gen.Int[0, 2 * Actors.Length - 1], Gen.Int[0, 1000], (a, pick) => (Op)new Click(ActorOrRole(a), pick, Stale: true))),
            (8, Gen.Int[0, 1000].Select(n => (Op)new Repeat(n))),
            (12, Gen.Select(Gen.Int[0, 6], Gen.Enum<TimerKind>(), (s, k) => (Op)new Tick(s, k))),
            (24, Gen.Int[0, 6].Select(s => (Op)new Drive(s))),
            (5, Gen.Int[0, Profiles.Length - 1].Select(p => (Op)new Health(Profiles[p]))),
            (1, Gen.Int[0, 3].Select(n => (Op)new Alert($"a{n}"))),
        ]);

        // Each sequence starts from a release walked part of the way (so the random steps meet every stage), then
        // interleaves at random; the walk itself is checked like any other step.
        await Gen.Select(Gen.Int[0, 6], op.Array[1, 90]).SampleAsync(
            async (depth, ops) => await new Run().ExecuteAsync([.. Walk(depth), .. ops]),
            iter: 200,
            threads: 1,
            print: t => $"walk {t.Item1}, then:\n{string.Join("\n", t.Item2.Select(o => o.ToString()))}");
    }

    /// <summary>A person, or (for the upper half) whoever the clicked button is meant for.</summary>
    private static string ActorOrRole(int n) => n < Actors.Length ? Actors[n].Id : "role";

    /// <summary>Who a button is for: approvals and promotions bob, decisions and the clock carol, the checklist alice.</summary>
    private static string NaturalActor(string command) => command.Split(' ')[0] switch
    {
        "approve" or "promote" or "reject" or "waive" => "bob",
        "decide" or "pause" or "resume" or "rollback" => "carol",
        _ => "alice",
    };

    /// <summary>Start, settle, approve, then <paramref name="depth"/> bakes' worth of time with every timer firing.</summary>
    private static IEnumerable<Op> Walk(int depth)
    {
        yield return new Typed("alice", "start demo {next}");
        yield return new Drive(0);
        yield return new Typed("alice", $"check {{id}} {Items}");
        yield return new Typed("bob", "approve {id}");
        yield return new Drive(0);
        for (var i = 0; i < depth; i++)
        {
            yield return new Drive(5);
            yield return new Drive(0);
            if (i == 2)
            {
                yield return new Typed("bob", "promote {id}"); // Early adopters needs an approver
                yield return new Drive(0);
            }
        }
    }

    private abstract record Op;

    private sealed record Typed(string Actor, string Command) : Op;

    /// <summary>A click on a button of a current card (or, <paramref name="Stale"/>, of any card ever posted).</summary>
    private sealed record Click(string Actor, int Pick, bool Stale) : Op;

    /// <summary>An earlier click delivered again, exactly (a double click, a duplicate delivery): the last one, or one further back.</summary>
    private sealed record Repeat(int Back) : Op;

    /// <summary>The clock moves on and one kind of timer fires for every release.</summary>
    private sealed record Tick(int Seconds, TimerKind Kind) : Op;

    /// <summary>The clock moves on and every timer fires (what the scheduler does when nothing is lost).</summary>
    private sealed record Drive(int Seconds) : Op;

    private sealed record Health(string Profile) : Op;

    private sealed record Alert(string Firing) : Op;

    /// <summary>One sequence against a fresh coordinator, with the bookkeeping the invariants need.</summary>
    private sealed class Run
    {
        private readonly CoordinatorHarness _sut;
        private readonly List<string> _violations = [];
        private readonly Dictionary<(ReleaseId, int), TimeSpan> _baked = [];
        private readonly Dictionary<string, int> _transitionsByClick = new(StringComparer.Ordinal);
        private readonly Dictionary<(ReleaseId, string), BreachKey> _decisionBreaches = [];
        private readonly Dictionary<ReleaseId, Release> _finished = [];
        private readonly List<InboundCommand> _clicks = [];

        public Run()
        {
            _sut = new CoordinatorHarness(p => p with
            {
                Approvers = ["bob", "alice"],
                ConsultTimeout = TimeSpan.FromSeconds(20),
                Thresholds = p.Thresholds with
                {
                    Actions = new Dictionary<string, BreachAction>
                    {
                        [Metrics.LatencyP99] = BreachAction.Consult,
                        [Metrics.UserFeedback] = BreachAction.Consult,
                        [Metrics.Business] = BreachAction.Consult,
                    },
                },
                Plan = p.Plan with { Stages = [.. p.Plan.Stages.Select((s, i) => i == 1 ? s with { NeedsApproval = true } : s)] },
            });

            // Invariant 5: at the moment of every call, the release is its service's active one.
            _sut.Deployment.ApplyAsync(Arg.Any<DeploymentRequest>(), Arg.Any<CancellationToken>()).Returns(ci =>
            {
                var request = ci.ArgAt<DeploymentRequest>(0);
                var active = ActiveRelease.Of(_sut.Store.ListByServiceAsync(request.Release.Service).GetAwaiter().GetResult());
                if (active?.Id != request.Release)
                {
                    _violations.Add($"the target was told about {request.Release} ({request.Intent.Describe()}) while {active?.Id} is active");
                }

                return Task.FromResult(new DeploymentResult(true, "applied", TimeSpan.FromMilliseconds(5)));
            });
        }

        public async Task ExecuteAsync(Op[] ops)
        {
            var log = new StringBuilder();
            foreach (var op in ops)
            {
                var before = await SnapshotAsync();
                string? clickKey = null;
                string? basis = null;
                Actor? actor = null;
                string? command = null;
                switch (op)
                {
                    case Typed t:
                        actor = Actors.Single(a => a.Id == t.Actor);
                        command = Resolve(t.Command, before);
                        if (command is not null)
                        {
                            await _sut.SendAsync(actor, $"/ship {command}");
                        }

                        break;
                    case Click c:
                        var click = PickButton(c, before);
                        if (click is not null)
                        {
                            var who = c.Actor == "role" ? NaturalActor(click.Text) : c.Actor;
                            actor = Actors.Single(a => a.Id == who);
                            command = click.Text;
                            var sent = click with { Actor = actor };
                            basis = sent.Basis;
                            _clicks.Add(sent);
                            clickKey = $"{actor.Id}:{click.RequestId}";
                            await _sut.Coordinator.HandleAsync(sent);
                        }

                        break;
                    case Repeat r when _clicks.Count > 0:
                        // Mostly the last click again (a double click); sometimes one from further back (a late duplicate).
                        var again = _clicks[^(1 + (r.Back % 4 == 0 ? r.Back % _clicks.Count : 0))];
                        actor = again.Actor;
                        command = again.Text;
                        clickKey = $"{again.Actor.Id}:{again.RequestId}";
                        basis = again.Basis;
                        await _sut.Coordinator.HandleAsync(again);
                        break;
                    case Tick t:
                        Advance(before, t.Seconds);
                        foreach (var id in before.Keys)
                        {
                            await _sut.FireAsync(id, t.Kind);
                        }

                        break;
                    case Drive d:
                        Advance(before, d.Seconds);
                        foreach (var id in before.Keys)
                        {
                            foreach (var kind in Enum.GetValues<TimerKind>())
                            {
                                await _sut.FireAsync(id, kind);
                            }
                        }

                        break;
                    case Health h:
                        SetHealth(h.Profile);
                        break;
                    case Alert a:
                        await _sut.Coordinator.OnAlertAsync(new ExternalAlert("demo", null, "HighErrorRate", "critical", "error budget burning", "alertmanager", _sut.Time.GetUtcNow(), a.Firing));
                        break;
                }

                var after = await SnapshotAsync();
                log.AppendLine(Describe(op, after));
                await CheckAsync(op, actor, command, clickKey, basis, before, after);
                if (_violations.Count > 0)
                {
                    // CsCheck shrinks on the failure and prints the smallest sequence that breaks an invariant.
                    Assert.Fail($"{string.Join("\n", _violations)}\nSteps:\n{log}");
                }
            }
        }

        private static string Describe(Op op, IReadOnlyDictionary<ReleaseId, Release> after) =>
            $"{op} → {string.Join(", ", after.Values.Select(r => $"{r.Id} {r.State}/{r.StageIndex} v{r.Revision}"))}";

        private async Task<IReadOnlyDictionary<ReleaseId, Release>> SnapshotAsync() =>
            (await _sut.Store.ListByServiceAsync("demo")).ToDictionary(r => r.Id);

        private string? Resolve(string template, IReadOnlyDictionary<ReleaseId, Release> releases)
        {
            var newest = releases.Values.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Revision).FirstOrDefault();
            var oldest = releases.Values.Where(r => !r.State.IsTerminal()).OrderBy(r => r.CreatedAt).FirstOrDefault();
            if (template.Contains("{next}", StringComparison.Ordinal))
            {
                return template.Replace("{next}", $"1.0.{releases.Count} change one; change two --flag beta", StringComparison.Ordinal);
            }

            if (newest is null || (template.Contains("{old}", StringComparison.Ordinal) && oldest is null))
            {
                return null;
            }

            return template.Replace("{id}", newest.Id.ToString(), StringComparison.Ordinal).Replace("{old}", oldest?.Id.ToString(), StringComparison.Ordinal);
        }

        /// <summary>A button of a card as the platform would send its click back: its command, basis and a key of what was clicked.</summary>
        private InboundCommand? PickButton(Click c, IReadOnlyDictionary<ReleaseId, Release> releases)
        {
            var publications = _sut.Publications;
            var cards = c.Stale
                ? publications
                : publications.GroupBy(p => p.Key).Select(g => g.Last()).ToList();
            var buttons = cards
                .SelectMany(p => p.Card.Blocks.SelectMany(ButtonsOf).Select(a => (p.Key, Action: a)))
                .Where(b => b.Action.Value.Split(' ').Length > 1 && !b.Action.Value.StartsWith("unhalt", StringComparison.Ordinal))
                .ToList();
            if (buttons.Count == 0)
            {
                return null;
            }

            var (key, action) = buttons[c.Pick % buttons.Count];
            var input = action.Input is null ? null : "because";
            var text = input is null ? action.Value : $"{action.Value} {input}";
            return InboundCommand.Click(ClickKeys.For("console", key, action.Id, action.Basis, action.Value, input), Alice, Channel, text, action.Basis);
        }

        private static IEnumerable<CardAction> ButtonsOf(CardBlock block) => block switch
        {
            ActionsBlock a => a.Actions,
            ChecklistBlock c => c.Groups.SelectMany(g => g.Items).SelectMany(i => i.Actions),
            _ => [],
        };

        /// <summary>Counts bake time for invariant 1: only while a stage's traffic is applied and its clock runs.</summary>
        private void Advance(IReadOnlyDictionary<ReleaseId, Release> releases, int seconds)
        {
            var by = TimeSpan.FromSeconds(seconds);
            foreach (var r in releases.Values)
            {
                var baking = r.PendingDeployment is null
                    && (r.State.IsProductionStage() || (r.State == ReleaseState.Staging && r.StagingStep == StagingStep.Baking));
                if (baking)
                {
                    var stage = (r.Id, r.State == ReleaseState.Staging ? -1 : r.StageIndex);
                    _baked[stage] = _baked.GetValueOrDefault(stage) + by;
                }
            }

            _sut.Time.Advance(by);
        }

        private void SetHealth(string profile)
        {
            _sut.ResetHealth();
            switch (profile)
            {
                case "latency":
                    _sut.SetMetric(Metrics.LatencyP99, 700);
                    break;
                case "feedback":
                    _sut.SetMetric(Metrics.UserFeedback, 2);
                    break;
                case "business":
                    _sut.SetMetric(Metrics.Business, 0.5);
                    break;
                case "error":
                    _sut.BreachErrorRate();
                    break;
            }
        }

        private async Task CheckAsync(Op op, Actor? actor, string? command, string? clickKey, string? basis, IReadOnlyDictionary<ReleaseId, Release> before, IReadOnlyDictionary<ReleaseId, Release> after)
        {
            var transitions = 0;
            foreach (var (id, now) in after)
            {
                before.TryGetValue(id, out var was);
                transitions += (int)(now.Revision - (was?.Revision ?? 0));

                // 4. A finished release never changes again.
                if (_finished.TryGetValue(id, out var final) && (final.Revision != now.Revision || final.State != now.State))
                {
                    _violations.Add($"{id} changed after it finished {final.State}: now {now.State} v{now.Revision}");
                }

                if (now.State.IsTerminal())
                {
                    _finished.TryAdd(id, now);
                }

                if (was is not null)
                {
                    await CheckBakeAsync(op, actor, command, was, now);
                    CheckDecisions(op, command, basis, was, now);
                }
            }

            // 2. Each distinct click causes at most one transition, however often it is delivered.
            if (clickKey is not null && transitions > 0)
            {
                var count = _transitionsByClick.GetValueOrDefault(clickKey) + transitions;
                _transitionsByClick[clickKey] = count;
                if (count > 1)
                {
                    _violations.Add($"the click '{command}' ({clickKey}) caused {count} transitions");
                }
            }
        }

        /// <summary>1. No stage bakes for less than its configured time, unless an approver who is not the requester promoted it early, audited.</summary>
        private async Task CheckBakeAsync(Op op, Actor? actor, string? command, Release was, Release now)
        {
            var leftStaging = was.State == ReleaseState.Staging && now.StageIndex == 0 && now.State != ReleaseState.Aborted;
            var promoted = was.StageIndex >= 0 && (now.StageIndex > was.StageIndex || (was.State == ReleaseState.Full && now.State == ReleaseState.Validating));
            if (!leftStaging && !promoted)
            {
                return;
            }

            var index = leftStaging ? -1 : was.StageIndex;
            var bake = leftStaging ? was.Plan.StagingBake : was.Plan.Stages[index].Bake;
            var baked = _baked.GetValueOrDefault((was.Id, index));
            var manual = op is Typed or Click or Repeat && command?.StartsWith("promote", StringComparison.Ordinal) == true;
            if (!manual)
            {
                if (baked < bake)
                {
                    _violations.Add($"{was.Id} left {was.Where} by itself after baking {baked} of {bake}");
                }

                if (!leftStaging && was.Plan.Stages[index].NeedsApproval)
                {
                    _violations.Add($"{was.Id} left {was.Where}, which needs an approver, without one");
                }

                return;
            }

            var isApprover = actor is not null && _sut.Access.Has(actor, "demo", Role.Approver);
            if (!isApprover || string.Equals(actor!.Id, was.Requester.Id, StringComparison.OrdinalIgnoreCase))
            {
                _violations.Add($"{actor?.Id} promoted {was.Id} out of {was.Where} (approver: {isApprover}, requester: {was.Requester.Id})");
            }

            if (baked < bake || was.AwaitingPromotionApproval)
            {
                var audit = await _sut.AuditAsync(was.Id);
                if (!audit.Any(a => a.Actor == actor!.Id && a.Action == nameof(ReleaseEventKind.Promoted)
                    && (a.Detail.Contains("promoted early", StringComparison.Ordinal) || a.Detail.Contains("approved the promotion", StringComparison.Ordinal))))
                {
                    _violations.Add($"{actor!.Id}'s early promotion of {was.Id} out of {was.Where} is not in the audit trail");
                }
            }
        }

        /// <summary>3. A decision only ever affects its own breach.</summary>
        private void CheckDecisions(Op op, string? command, string? basis, Release was, Release now)
        {
            foreach (var d in now.OpenDecisions.Concat(was.OpenDecisions))
            {
                var key = (now.Id, d.Id);
                if (_decisionBreaches.TryGetValue(key, out var breach) && breach != d.BreachKey)
                {
                    _violations.Add($"decision {d.Id} of {now.Id} was about {breach}, now about {d.BreachKey}");
                }

                _decisionBreaches[key] = d.BreachKey;
            }

            var acknowledged = now.AcknowledgedBreaches.Except(was.AcknowledgedBreaches).ToList();
            var newlyHeld = now.HeldDecisions.Where(h => !was.HeldDecisions.Any(x => x.Id == h.Id)).ToList();
            var answered = was.OpenDecisions.Where(d => !now.OpenDecisions.Any(x => x.Id == d.Id)).ToList();
            if (acknowledged.Count == 0 && newlyHeld.Count == 0 && answered.Count == 0)
            {
                return;
            }

            // Which decision did this step answer? A click's basis names the one its card showed; a typed decide takes
            // the pending one, or the only held one.
            var parts = command?.Split(' ') ?? [];
            string? target = null;
            if (op is Click or Repeat && parts is ["decide", ..])
            {
                target = basis is ['d', '.', .. var shown] ? shown : null;
            }
            else if (op is Typed && parts is ["decide", _, _, ..])
            {
                target = parts.Length > 3 ? parts[3] : (was.Decision ?? (was.HeldDecisions.Count == 1 ? was.HeldDecisions[0] : null))?.Id;
            }

            var targetBreach = was.OpenDecisions.FirstOrDefault(d => d.Id == target)?.BreachKey;
            foreach (var key in acknowledged.Where(k => k != targetBreach))
            {
                _violations.Add($"{now.Id}: breach {key} was continued past by a step that answered {target ?? "no decision"}");
            }

            foreach (var held in newlyHeld.Where(h => h.Id != target))
            {
                _violations.Add($"{now.Id}: decision {held.Id} was held by a step that answered {target ?? "no decision"}");
            }

            // Decisions also end when the release leaves their stage (a rollback); never by an answer to another decision.
            var left = now.State is ReleaseState.RollingBack or ReleaseState.Operating || now.State.IsTerminal() || now.Where != was.Where;
            foreach (var ended in answered.Where(d => d.Id != target && !left && !(d == was.Decision && d.AutoRollbackAt <= _sut.Time.GetUtcNow())))
            {
                _violations.Add($"{now.Id}: decision {ended.Id} ({ended.About}) ended by a step that answered {target ?? "no decision"}");
            }
        }
    }
}
