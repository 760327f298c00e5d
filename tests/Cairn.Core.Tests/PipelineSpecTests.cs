using Cairn.Core.Pipelines;

namespace Cairn.Core.Tests;

public sealed class PipelineSpecTests
{
    private const string Adult = """
        name: adult
        params:
          trainer: {type: string, default: lightgbm}
          fraction: {type: number, default: "0.2"}
        steps:
        - name: ingest
          kind: ingest
          with: {path: examples/adult/adult.csv, dataset: adult}
          outputs: [dataset:adult]
        - name: check
          kind: validate
          with: {dataset: adult, contract: adult.yaml}
          inputs: [dataset:adult, file:adult.yaml]
        - name: train
          kind: train
          with: {config: train.yaml, trainer: "${params.trainer}"}
          inputs: [dataset:adult]
          outputs: [run:train]
        - name: report
          run: [python3, report.py, "--fraction", "${params.fraction}"]
          inputs: [run:train]
          outputs: [file:report.html]
          retries: 2
          timeout: 90s
        """;

    [Fact]
    public void Parse_ReadsStepsAndParameters_AndOrdersStepsByWhatTheyRead()
    {
        var spec = PipelineSpec.Parse(Adult);

        Assert.Equal("adult", spec.Name);
        Assert.Equal(["trainer", "fraction"], spec.Parameters.Select(p => p.Name));
        var report = spec.Steps[3];
        Assert.Equal(("command", 2, TimeSpan.FromSeconds(90)), (report.Kind, report.Retries, report.Timeout));
        Assert.Equal([["ingest"], ["check", "train"], ["report"]], PipelineGraph.Waves(spec.Steps));
        Assert.Equal("python3 report.py --fraction 0.3",
            string.Join(' ', report.Run.Select(a => PipelineSpec.Substitute(a, new Dictionary<string, string> { ["fraction"] = "0.3", ["trainer"] = "x" }))));
    }

    [Fact]
    public void Parse_ReportsEveryProblemAtOnce()
    {
        const string yaml = """
            name: bad name
            params:
              n: {type: integer, default: "1.5"}
              t: {type: color}
            steps:
            - name: a
              kind: teleport
            - name: b
              kind: train
              with: {trainer: "${params.missing}", colour: red}
              inputs: [dataset:d, nonsense]
              outputs: [run:b]
              retries: 11
              timeout: soon
            - name: b
              run: []
            """;

        var message = Assert.Throws<CairnException>(() => PipelineSpec.Parse(yaml)).Message;

        Assert.Contains("name 'bad name' may use letters", message);
        Assert.Contains("parameter 'n': default '1.5' is not a valid integer", message);
        Assert.Contains("parameter 't': type 'color' is not one of", message);
        Assert.Contains("step 'a': kind 'teleport' is not one of ingest, validate", message);
        Assert.Contains("step 'b': 'train' needs 'with.config'", message);
        Assert.Contains("'train' does not take 'with.colour'", message);
        Assert.Contains("'${params.missing}' names no declared parameter", message);
        Assert.Contains("resource 'nonsense' is not KIND:NAME", message);
        Assert.Contains("retries 11 must be between 0 and 10", message);
        Assert.Contains("timeout 'soon' is not a duration", message);
        Assert.Contains("step 'b': the name is used by another step", message);
    }

    [Fact]
    public void Parse_RejectsCyclesAndResourcesWrittenTwice()
    {
        const string yaml = """
            name: loop
            steps:
            - {name: a, run: [x], inputs: ["file:c"], outputs: ["file:a"]}
            - {name: b, run: [x], inputs: ["file:a"], outputs: ["file:b"]}
            - {name: c, run: [x], inputs: ["file:b"], outputs: ["file:c", "file:a"]}
            """;

        var message = Assert.Throws<CairnException>(() => PipelineSpec.Parse(yaml)).Message;

        Assert.Contains("resource 'file:a' is written by more than one step: a, c", message);
        Assert.Contains("in a cycle: ", message);
        Assert.Matches("cycle: (a → b → c → a|b → c → a → b|c → a → b → c)", message);
    }

    [Fact]
    public void Parse_InvalidYaml_NamesTheLine()
    {
        var e = Assert.Throws<CairnException>(() => PipelineSpec.Parse("name: x\nsteps:\n  - name: [unclosed\n"));

        Assert.Contains("not valid YAML at line", e.Message);
    }
}
