using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.GitHub.Actions;
using YamlDotNet.RepresentationModel;

namespace ShipBot.GitHub.Tests.Pipelines;

/// <summary>
/// The ship action and the example workflows, parsed as YAML and checked against the required keys
/// of GitHub's workflow and action metadata schemas (SchemaStore's github-workflow.json and
/// github-action.json): a workflow needs <c>on</c> and <c>jobs</c>; a job <c>runs-on</c> (or
/// <c>uses</c> for a reusable workflow); a step <c>uses</c> or <c>run</c>, not both; a
/// <c>workflow_call</c> input a <c>type</c>; an action <c>name</c>, <c>description</c> and
/// <c>runs</c>; a composite action <c>runs.using: composite</c> and <c>steps</c>, every <c>run</c>
/// step a <c>shell</c>; every action input a <c>description</c>, every composite output a <c>value</c>.
/// </summary>
public sealed class WorkflowFilesTests
{
    private static readonly string Root = RepositoryRoot();

    private static readonly string[] WorkflowInputTypes = ["string", "boolean", "number", "choice", "environment"];

    [Fact]
    public void ShipAction_HasTheActionSchemasRequiredKeys()
    {
        var action = Load(".github/actions/ship/action.yml");

        foreach (var key in new[] { "name", "description", "runs" })
        {
            Assert.True(action.Children.ContainsKey(key), $"action.yml lacks '{key}'");
        }

        var runs = Map(action, "runs");
        Assert.Equal("composite", Scalar(runs, "using"));
        var steps = Assert.IsType<YamlSequenceNode>(runs.Children[new YamlScalarNode("steps")]);
        Assert.NotEmpty(steps.Children);
        foreach (var step in steps.Children.Cast<YamlMappingNode>())
        {
            AssertStep(step, composite: true);
        }

        foreach (var (name, input) in Map(action, "inputs").Children)
        {
            Assert.True(((YamlMappingNode)input).Children.ContainsKey("description"), $"input {name} has no description");
        }

        foreach (var (name, output) in Map(action, "outputs").Children)
        {
            var o = (YamlMappingNode)output;
            Assert.True(o.Children.ContainsKey("description") && o.Children.ContainsKey("value"), $"output {name} needs description and value");
        }

        // The script the step runs is there and is what the step runs.
        Assert.True(File.Exists(Path.Combine(Root, ".github/actions/ship/ship.sh")));
        Assert.Contains("ship.sh", Scalar((YamlMappingNode)steps.Children[0], "run"), StringComparison.Ordinal);
    }

    [Fact]
    public void ShipAction_EveryInputReachesTheScript()
    {
        var action = Load(".github/actions/ship/action.yml");
        var step = (YamlMappingNode)((YamlSequenceNode)Map(action, "runs").Children[new YamlScalarNode("steps")]).Children[0];
        var env = Map(step, "env").Children.ToDictionary(e => ((YamlScalarNode)e.Key).Value!, e => ((YamlScalarNode)e.Value).Value!);
        var script = File.ReadAllText(Path.Combine(Root, ".github/actions/ship/ship.sh"));

        foreach (var (name, _) in Map(action, "inputs").Children)
        {
            var variable = env.Single(e => e.Value.Contains($"inputs.{name}", StringComparison.Ordinal)).Key;
            Assert.Contains(variable, script, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("docs/examples/github-ship-on-tag.yml")]
    [InlineData("docs/examples/github-deploy-target.yml")]
    public void ExampleWorkflow_HasTheWorkflowSchemasRequiredKeys(string path)
    {
        var workflow = Load(path);

        Assert.True(workflow.Children.ContainsKey("on"), $"{path} lacks 'on'");
        var jobs = Map(workflow, "jobs");
        Assert.NotEmpty(jobs.Children);
        foreach (var (name, node) in jobs.Children)
        {
            var job = (YamlMappingNode)node;
            Assert.True(job.Children.ContainsKey("runs-on") || job.Children.ContainsKey("uses"), $"job {name} needs runs-on (or uses)");
            if (job.Children.ContainsKey("steps"))
            {
                foreach (var step in ((YamlSequenceNode)job.Children[new YamlScalarNode("steps")]).Children.Cast<YamlMappingNode>())
                {
                    AssertStep(step, composite: false);
                }
            }
        }

        if (workflow.Children[new YamlScalarNode("on")] is YamlMappingNode on)
        {
            foreach (var trigger in new[] { "workflow_dispatch", "workflow_call" })
            {
                if (on.Children.TryGetValue(new YamlScalarNode(trigger), out var t) && t is YamlMappingNode triggerMap && triggerMap.Children.TryGetValue(new YamlScalarNode("inputs"), out var inputs))
                {
                    foreach (var (name, input) in ((YamlMappingNode)inputs).Children)
                    {
                        var type = Scalar((YamlMappingNode)input, "type");
                        Assert.True(trigger == "workflow_dispatch" || type is not null, $"{trigger} input {name} needs a type");
                        Assert.True(type is null || WorkflowInputTypes.Contains(type), $"{trigger} input {name} has type '{type}'");
                    }
                }
            }
        }
    }

    [Fact]
    public void ShipOnTagExample_UsesTheActionWithItsInputs()
    {
        var action = Load(".github/actions/ship/action.yml");
        var inputs = Map(action, "inputs").Children.ToDictionary(i => ((YamlScalarNode)i.Key).Value!, i => (YamlMappingNode)i.Value);
        var workflow = Load("docs/examples/github-ship-on-tag.yml");
        var step = Map(workflow, "jobs").Children.Values.Cast<YamlMappingNode>()
            .SelectMany(j => ((YamlSequenceNode)j.Children[new YamlScalarNode("steps")]).Children.Cast<YamlMappingNode>())
            .Single(s => Scalar(s, "uses")?.Contains("/.github/actions/ship@", StringComparison.Ordinal) == true);
        var with = Map(step, "with").Children.Keys.Select(k => ((YamlScalarNode)k).Value!).ToList();

        Assert.All(with, key => Assert.True(inputs.ContainsKey(key), $"the example passes '{key}', which the action does not take"));
        foreach (var (name, input) in inputs.Where(i => Scalar(i.Value, "required") == "true"))
        {
            Assert.Contains(name, with);
        }
    }

    [Fact]
    public void DeployTargetExample_DeclaresExactlyTheInputsShipBotSends()
    {
        var workflow = Load("docs/examples/github-deploy-target.yml");
        var dispatch = Map(Map(workflow, "on"), "workflow_dispatch");
        var declared = Map(dispatch, "inputs").Children.Keys.Select(k => ((YamlScalarNode)k).Value!).Order().ToList();
        var sent = GitHubActionsDeploymentTarget.InputsFor(new DeploymentRequest(new ReleaseId("checkout", "1.4.2"), new DeploymentIntent(DeploymentEnvironment.Production, 5), "key"));

        Assert.Equal(sent.Keys.Order(), declared);
        Assert.Contains("inputs.dispatch_id", Scalar(workflow, "run-name"), StringComparison.Ordinal);
    }

    [Fact]
    public void Repository_HasNoWorkflowsOfItsOwn()
    {
        // This repository's CI is .ci/run; the .github folder only ships the action for other repositories.
        Assert.False(Directory.Exists(Path.Combine(Root, ".github", "workflows")), ".github/workflows would run on this repository");
    }

    private static void AssertStep(YamlMappingNode step, bool composite)
    {
        var uses = step.Children.ContainsKey("uses");
        var run = step.Children.ContainsKey("run");
        Assert.True(uses ^ run, "a step has either 'uses' or 'run'");
        if (composite && run)
        {
            Assert.True(step.Children.ContainsKey("shell"), "a composite action's run step needs 'shell'");
        }
    }

    private static YamlMappingNode Load(string relative)
    {
        var yaml = new YamlStream();
        using var reader = new StreamReader(Path.Combine(Root, relative));
        yaml.Load(reader);
        return Assert.IsType<YamlMappingNode>(Assert.Single(yaml.Documents).RootNode);
    }

    private static YamlMappingNode Map(YamlMappingNode node, string key) =>
        Assert.IsType<YamlMappingNode>(node.Children[new YamlScalarNode(key)]);

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? (value as YamlScalarNode)?.Value : null;

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ShipBot.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (with ShipBot.sln) is not above the test's directory.");
    }
}
