using System.Text.Json;
using Cairn.Application.Serving;
using Microsoft.Extensions.Time.Testing;

namespace Cairn.Cli.Tests;

public sealed class ServingTests(AdultModelFixture fixture) : IClassFixture<AdultModelFixture>
{
    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task Health_IsLiveAndReady()
    {
        Assert.Equal((200, true), await Bool("/v2/health/live", "live"));
        Assert.Equal((200, true), await Bool("/v2/health/ready", "ready"));
        Assert.Equal((200, true), await Bool($"/v2/models/{AdultModelFixture.Model}/ready", "ready"));

        async Task<(int, bool)> Bool(string path, string property)
        {
            var (status, body) = await Client.GetJsonAsync(path);
            return (status, body.GetProperty(property).GetBoolean());
        }
    }

    [Fact]
    public async Task MalformedInferenceBodies_AreAll4xx_OnEveryProtocol()
    {
        string[] bodies =
        [
            "", "null", "5", "[]", "\"x\"", "{", "{}", """{"dataframe_split": 5}""", """{"dataframe_split": null}""", """{"dataframe_split": []}""",
            """{"dataframe_split": {"columns": 5, "data": []}}""", """{"dataframe_split": {"columns": ["age"], "data": [5]}}""",
            """{"dataframe_records": 5}""", """{"dataframe_records": [5, null]}""", """{"instances": null}""", """{"inputs": 5}""",
            """{"inputs": {"age": 5}}""", """{"inputs": {"age": [1], "sex": [1, 2]}}""", """{"rows": 7}""", """{"rows": [null]}""", """{"rows": [[1, 2]]}""",
            """{"inputs": [{"name": null}]}""", """{"inputs": [{"name": "age", "datatype": 5, "shape": "x", "data": {}}]}""", """{"id": 5, "inputs": []}""",
            """{"inputs": [{"name": "age", "datatype": "FP32", "shape": [1], "data": [1]}], "outputs": 5}""",
            new string('[', 100_000) + new string(']', 100_000),
        ];
        var failures = new List<string>();
        foreach (var path in new[] { "predict", "invocations" }.Select(p => $"/api/models/{AdultModelFixture.Model}/{p}").Append($"/v2/models/{AdultModelFixture.Model}/infer"))
        {
            foreach (var body in bodies)
            {
                using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
                using var response = await Client.PostAsync(path, content);
                if ((int)response.StatusCode is < 400 or >= 500)
                {
                    failures.Add($"{path} {body[..Math.Min(60, body.Length)]} -> {(int)response.StatusCode}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public async Task MlflowInvocations_AcceptEveryInputFormat_AndAgreeWithTheRowsEndpoint()
    {
        const string Columns = "age,workclass,education,education_num,marital_status,occupation,relationship,race,sex,capital_gain,capital_loss,hours_per_week,native_country";
        var rows = JsonDocument.Parse(AdultModelFixture.TwoRows).RootElement.GetProperty("rows").GetRawText();
        var names = Columns.Split(',');
        var first = JsonDocument.Parse(rows).RootElement[0];
        var second = JsonDocument.Parse(rows).RootElement[1];
        string Values(JsonElement row) => string.Join(",", names.Select(n => row.GetProperty(n).GetRawText()));
        var header = string.Join(",", names.Select(n => $"\"{n}\""));
        var split = "{\"dataframe_split\": {\"columns\": [" + header + "], \"data\": [[" + Values(first) + "], [" + Values(second) + "]]}}";
        var columns = "{\"inputs\": {" + string.Join(",", names.Select(n => $"\"{n}\": [{first.GetProperty(n).GetRawText()}, {second.GetProperty(n).GetRawText()}]")) + "}}";
        var csv = Columns + "\n52,Self-emp-inc,Doctorate,16,Married-civ-spouse,Prof-specialty,Husband,White,Male,15024,0,60,United-States\n" +
            "19,Private,11th,7,Never-married,Handlers-cleaners,Own-child,White,Female,0,0,20,\n";

        var (_, expected) = await Client.PostJsonAsync($"/api/models/{AdultModelFixture.Model}/predict", AdultModelFixture.TwoRows);
        var bodies = new List<JsonElement>();
        foreach (var json in new[] { $$"""{"dataframe_records": {{rows}}}""", $$"""{"instances": {{rows}}}""", $$"""{"inputs": {{rows}}}""", split, columns })
        {
            var (status, body) = await Client.PostJsonAsync($"/api/models/{AdultModelFixture.Model}/invocations", json);
            Assert.True(status == 200, body.ToString());
            bodies.Add(body);
        }

        using (var response = await Client.PostAsync($"/api/models/{AdultModelFixture.Model}/invocations", new StringContent(csv, System.Text.Encoding.UTF8, "text/csv")))
        {
            Assert.Equal(200, (int)response.StatusCode);
            bodies.Add(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement);
        }

        Assert.All(bodies, b => Assert.Equal(expected.GetProperty("predictions").GetRawText(), b.GetProperty("predictions").GetRawText()));
        Assert.Equal(200, (int)(await Client.GetAsync($"/api/models/{AdultModelFixture.Model}/ping")).StatusCode);
        Assert.Equal("1", await Client.GetStringAsync($"/api/models/{AdultModelFixture.Model}/version"));
        var (missing, error) = await Client.PostJsonAsync($"/api/models/{AdultModelFixture.Model}/invocations", """{"dataframe_split": {"columns": ["age"], "data": [[52]]}}""");
        Assert.Equal(400, missing);
        Assert.Contains("lacks column 'workclass'", error.GetProperty("error").GetString(), StringComparison.Ordinal);
        string[] malformed =
        [
            """{"tensors": []}""", "[]", "42", """{"dataframe_split": {"columns": [1, 2], "data": [[1, 2]]}}""",
            """{"dataframe_split": {"columns": ["age", "age"], "data": [[1, 2]]}}""", """{"dataframe_split": {"columns": ["age"], "data": [5]}}""",
            """{"dataframe_split": {"columns": "age", "data": []}}""", """{"dataframe_records": {"age": 1}}""", """{"instances": [1, 2]}""",
            """{"inputs": {"age": [1], "sex": ["Male", "Female"]}}""", """{"inputs": {"age": 1}}""", """{"inputs": "x"}""", """{"dataframe_records": []}""",
        ];
        foreach (var body in malformed)
        {
            var (status, answer) = await Client.PostJsonAsync($"/api/models/{AdultModelFixture.Model}/invocations", body);
            Assert.True(status == 400, $"{body}: {status} {answer}");
        }

        using var twice = await Client.PostAsync($"/api/models/{AdultModelFixture.Model}/invocations", new StringContent("age,age\n1,2\n", System.Text.Encoding.UTF8, "text/csv"));
        Assert.Equal(400, (int)twice.StatusCode);
    }

    [Fact]
    public async Task RequestsAreReadWhateverTheKeyOrderAndEscapes_AndGiveTheSameAnswers()
    {
        var (_, expected) = await Client.PostJsonAsync($"/api/models/{AdultModelFixture.Model}/predict", AdultModelFixture.TwoRows);
        var rows = JsonDocument.Parse(AdultModelFixture.TwoRows).RootElement.GetProperty("rows");
        var names = rows[0].EnumerateObject().Select(p => p.Name).ToList();

        // Keys escaped (\u0061 is 'a'), rows listing their columns backwards, and an extra key before "rows".
        var reordered = "{\"note\": {\"rows\": 1}, \"rows\": [" + string.Join(",", rows.EnumerateArray().Select(r =>
            "{" + string.Join(",", names.AsEnumerable().Reverse().Select(n => $"\"{n.Replace("a", "\\u0061", StringComparison.Ordinal)}\": {r.GetProperty(n).GetRawText()}")) + "}")) + "]}";
        // dataframe_split with its data before its columns; tensors with data before their name and datatype.
        var split = "{\"dataframe_split\": {\"data\": [" + string.Join(",", rows.EnumerateArray().Select(r => "[" + string.Join(",", names.Select(n => r.GetProperty(n).GetRawText())) + "]")) +
            "], \"index\": [0, 1], \"columns\": [" + string.Join(",", names.Select(n => $"\"{n}\"")) + "]}, \"params\": {}}";
        var tensors = JsonDocument.Parse(AdultModelFixture.TwoRowsAsOpenInference()).RootElement.GetProperty("inputs").EnumerateArray()
            .Select(t => $"{{\"data\": {t.GetProperty("data").GetRawText()}, \"parameters\": {{}}, \"shape\": {t.GetProperty("shape").GetRawText()}, " +
                $"\"datatype\": {t.GetProperty("datatype").GetRawText()}, \"name\": {t.GetProperty("name").GetRawText()}}}");
        var oip = "{\"inputs\": [" + string.Join(",", tensors) + "], \"id\": \"r1\"}";

        var (rowsStatus, rowsAnswer) = await Client.PostJsonAsync($"/api/models/{AdultModelFixture.Model}/predict", reordered);
        var (splitStatus, splitAnswer) = await Client.PostJsonAsync($"/api/models/{AdultModelFixture.Model}/invocations", split);
        var (oipStatus, oipAnswer) = await Client.PostJsonAsync($"/v2/models/{AdultModelFixture.Model}/infer", oip);

        Assert.True(rowsStatus == 200, rowsAnswer.ToString());
        Assert.True(splitStatus == 200, splitAnswer.ToString());
        Assert.True(oipStatus == 200, oipAnswer.ToString());
        Assert.Equal(expected.GetProperty("predictions").GetRawText(), rowsAnswer.GetProperty("predictions").GetRawText());
        Assert.Equal(expected.GetProperty("predictions").GetRawText(), splitAnswer.GetProperty("predictions").GetRawText());
        Assert.Equal("r1", oipAnswer.GetProperty("id").GetString());
        var labels = oipAnswer.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "predicted_label").GetProperty("data");
        Assert.Equal(expected.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("predicted_label").GetString()), labels.EnumerateArray().Select(l => l.GetString()));
    }

    [Theory]
    [InlineData("{\"rows\": [], \"rows\": []}", "must be {\"rows\"")]
    [InlineData("{\"rows\": [{\"age\": 1, \"workclass\": {\"x\": 1}}]}", "Row 0, column 'workclass' must be a string, not an object")]
    public async Task RowsThatCannotBeRead_Are400WithTheReason(string request, string reason)
    {
        var (status, body) = await Client.PostJsonAsync($"/api/models/{AdultModelFixture.Model}/predict", request);

        Assert.Equal(400, status);
        Assert.Contains(reason, body.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABodyWithTwoFormsOrTwoValues_IsRefused()
    {
        var rows = JsonDocument.Parse(AdultModelFixture.TwoRows).RootElement.GetProperty("rows").GetRawText();

        var (status, body) = await Client.PostJsonAsync($"/api/models/{AdultModelFixture.Model}/invocations", $$"""{"instances": {{rows}}, "dataframe_records": {{rows}}}""");

        var (trailing, error) = await Client.PostJsonAsync($"/api/models/{AdultModelFixture.Model}/predict", AdultModelFixture.TwoRows + " {}");

        Assert.Equal(400, status);
        Assert.Contains("both 'instances' and 'dataframe_records'", body.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(400, trailing);
        Assert.Contains("not valid JSON", error.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARowsRequestOverTheRowLimit_NamesItsRowCount()
    {
        var row = JsonDocument.Parse(AdultModelFixture.TwoRows).RootElement.GetProperty("rows")[0].GetRawText();
        var request = "{\"rows\": [" + string.Join(",", Enumerable.Repeat(row, 10_003)) + "]}";

        var (status, body) = await Client.PostJsonAsync($"/api/models/{AdultModelFixture.Model}/predict", request);

        Assert.Equal(400, status);
        Assert.Contains("Send between 1 and 10000 rows, not 10003", body.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_ExposeScoringAndHttpCounters_InPrometheusTextFormat()
    {
        var (status, _) = await Client.PostJsonAsync($"/api/models/{AdultModelFixture.Model}/predict", AdultModelFixture.TwoRows);
        Assert.Equal(200, status);

        using var response = await Client.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(200, (int)response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        Assert.Matches($"cairn_prediction_requests_total\\{{deployment=\"\",model=\"{AdultModelFixture.Model}\",version=\"1\"\\}} [1-9]", text);
        Assert.Contains($"cairn_inference_duration_seconds_bucket{{deployment=\"\",model=\"{AdultModelFixture.Model}\",version=\"1\",le=", text, StringComparison.Ordinal);
        Assert.Contains($"cairn_batch_rows_bucket{{deployment=\"\",model=\"{AdultModelFixture.Model}\",version=\"1\",le=", text, StringComparison.Ordinal);
        Assert.Matches($"cairn_model_load_seconds\\{{deployment=\"\",model=\"{AdultModelFixture.Model}\",version=\"1\"\\}} [0-9]", text);
        Assert.Contains("http_request_duration_seconds", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenInference_Infer_ReturnsLabelsProbabilitiesAndEchoesTheId()
    {
        var (status, body) = await Client.PostJsonAsync($"/v2/models/{AdultModelFixture.Model}/infer", AdultModelFixture.TwoRowsAsOpenInference("req-7"));

        Assert.Equal(200, status);
        Assert.Equal(AdultModelFixture.Model, body.GetProperty("model_name").GetString());
        Assert.Equal("1", body.GetProperty("model_version").GetString());
        Assert.Equal("req-7", body.GetProperty("id").GetString());
        var outputs = body.GetProperty("outputs").EnumerateArray().ToDictionary(o => o.GetProperty("name").GetString()!);
        Assert.Equal(["predicted_label", "probability", "score"], outputs.Keys);
        var labels = outputs["predicted_label"];
        Assert.Equal("BYTES", labels.GetProperty("datatype").GetString());
        Assert.Equal([2], labels.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal([">50K", "<=50K"], labels.GetProperty("data").EnumerateArray().Select(d => d.GetString()));
        var probabilities = outputs["probability"].GetProperty("data").EnumerateArray().Select(d => d.GetDouble()).ToArray();
        Assert.InRange(probabilities[0], 0.5, 1);
        Assert.InRange(probabilities[1], 0, 0.5);
    }

    [Fact]
    public async Task OpenInference_RequestedOutputs_AreTheOnlyOnesReturned()
    {
        var request = AdultModelFixture.TwoRowsAsOpenInference().TrimEnd().TrimEnd('}') + ", \"outputs\": [{\"name\": \"probability\"}]}";

        var (status, body) = await Client.PostJsonAsync($"/v2/models/{AdultModelFixture.Model}/infer", request);

        Assert.Equal(200, status);
        Assert.Equal("probability", Assert.Single(body.GetProperty("outputs").EnumerateArray()).GetProperty("name").GetString());
    }

    [Fact]
    public async Task OpenInference_AcceptsEveryNumericDatatype_WithTheSameAnswer()
    {
        var typed = AdultModelFixture.TwoRowsAsOpenInference()
            .Replace("\"name\": \"age\", \"datatype\": \"FP32\"", "\"name\": \"age\", \"datatype\": \"INT8\"", StringComparison.Ordinal)
            .Replace("\"name\": \"education_num\", \"datatype\": \"INT32\"", "\"name\": \"education_num\", \"datatype\": \"UINT8\"", StringComparison.Ordinal)
            .Replace("\"name\": \"capital_gain\", \"datatype\": \"FP64\"", "\"name\": \"capital_gain\", \"datatype\": \"UINT32\"", StringComparison.Ordinal)
            .Replace("\"name\": \"capital_loss\", \"datatype\": \"FP32\", \"shape\": [2], \"data\": [0, 0]",
                "\"name\": \"capital_loss\", \"datatype\": \"BOOL\", \"shape\": [2], \"data\": [false, false]", StringComparison.Ordinal)
            .Replace("\"name\": \"hours_per_week\", \"datatype\": \"FP32\"", "\"name\": \"hours_per_week\", \"datatype\": \"FP16\"", StringComparison.Ordinal);
        Assert.Contains("BOOL", typed, StringComparison.Ordinal);

        var (status, body) = await Client.PostJsonAsync($"/v2/models/{AdultModelFixture.Model}/infer", typed);
        var (_, plain) = await Client.PostJsonAsync($"/v2/models/{AdultModelFixture.Model}/infer", AdultModelFixture.TwoRowsAsOpenInference());

        Assert.Equal(200, status);
        Assert.Equal(plain.GetProperty("outputs").GetRawText(), body.GetProperty("outputs").GetRawText());
    }

    [Fact]
    public async Task JsonRows_AgreeWithOpenInference()
    {
        var (status, rows) = await Client.PostJsonAsync($"/api/models/{AdultModelFixture.Model}/predict", AdultModelFixture.TwoRows);
        var (_, tensors) = await Client.PostJsonAsync($"/v2/models/{AdultModelFixture.Model}/infer", AdultModelFixture.TwoRowsAsOpenInference());

        Assert.Equal(200, status);
        Assert.Equal(1, rows.GetProperty("version").GetInt32());
        var fromRows = rows.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("probability").GetDouble());
        var fromTensors = tensors.GetProperty("outputs")[1].GetProperty("data").EnumerateArray().Select(d => d.GetDouble());
        Assert.Equal(fromTensors, fromRows);
        Assert.Equal(">50K", rows.GetProperty("predictions")[0].GetProperty("predicted_label").GetString());
    }

    [Fact]
    public async Task Model_CanBeAddressedByVersionOrAlias()
    {
        var (byVersion, _) = await Client.PostJsonAsync($"/v2/models/{AdultModelFixture.Model}/versions/1/infer", AdultModelFixture.TwoRowsAsOpenInference());
        var (byAlias, body) = await Client.PostJsonAsync($"/api/models/{AdultModelFixture.Model}@champion/predict", AdultModelFixture.TwoRows);

        Assert.Equal(200, byVersion);
        Assert.Equal(200, byAlias);
        Assert.Equal(1, body.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task Metadata_DescribesInputsAndOutputs()
    {
        var (status, body) = await Client.GetJsonAsync($"/v2/models/{AdultModelFixture.Model}");

        Assert.Equal(200, status);
        var inputs = body.GetProperty("inputs").EnumerateArray().ToDictionary(i => i.GetProperty("name").GetString()!, i => i.GetProperty("datatype").GetString());
        Assert.Equal(13, inputs.Count);
        Assert.Equal("FP32", inputs["age"]);
        Assert.Equal("BYTES", inputs["workclass"]);
        Assert.DoesNotContain("income", inputs.Keys);
        Assert.DoesNotContain("fnlwgt", inputs.Keys);
    }

    [Theory]
    [InlineData("/v2/models/no-such-model/infer", 404, "no registered model 'no-such-model'")]
    [InlineData("/v2/models/adult-income@canary/infer", 404, "no alias 'canary'")]
    [InlineData("/v2/models/adult-income/versions/9/infer", 404, "no version 9")]
    public async Task UnknownModelAliasOrVersion_Is404WithAnError(string path, int expected, string message)
    {
        var (status, body) = await Client.PostJsonAsync(path, AdultModelFixture.TwoRowsAsOpenInference());

        Assert.Equal(expected, status);
        Assert.Contains(message, body.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("{\"inputs\": [", "not valid JSON")]
    [InlineData("[1, 2]", "must be a JSON object")]
    [InlineData("{\"inputs\": []}", "non-empty 'inputs'")]
    [InlineData("{\"inputs\": [{\"name\": \"age\", \"datatype\": \"FP32\", \"shape\": [1], \"data\": [30]}]}", "lacks input(s): workclass")]
    [InlineData("{\"inputs\": [{\"name\": \"salary\", \"datatype\": \"FP32\", \"shape\": [1], \"data\": [30]}]}", "'salary' is not an input")]
    [InlineData("{\"inputs\": [{\"name\": \"workclass\", \"datatype\": \"FP32\", \"shape\": [1], \"data\": [3]}]}", "send it as BYTES")]
    [InlineData("{\"inputs\": [{\"name\": \"age\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": [\"x\"]}]}", "send it as FP32")]
    [InlineData("{\"inputs\": [{\"name\": \"age\", \"datatype\": \"FP32\", \"shape\": [2], \"data\": [30]}]}", "has 1 values, but its shape [2] needs 2")]
    [InlineData("{\"inputs\": [{\"name\": \"age\", \"datatype\": \"FP32\", \"shape\": [1, 3], \"data\": [1, 2, 3]}]}", "use [rows] or [rows, 1]")]
    [InlineData("{\"inputs\": [{\"name\": \"age\", \"datatype\": \"FP32\", \"shape\": [1], \"data\": [{}]}]}", "is FP32, but value 0 is an object")]
    [InlineData("{\"inputs\": [{\"name\": \"age\", \"datatype\": \"BOOL\", \"shape\": [1], \"data\": [1]}]}", "is BOOL, but value 0 is the number 1")]
    [InlineData("{\"inputs\": [{\"name\": \"age\", \"datatype\": \"INT8\", \"shape\": [2], \"data\": [1, 200]}]}", "value 1 (200) is not an integer in its range -128..127")]
    [InlineData("{\"inputs\": [{\"name\": \"age\", \"datatype\": \"UINT16\", \"shape\": [1], \"data\": [-3]}]}", "is not an integer in its range 0..65535")]
    [InlineData("{\"inputs\": [{\"name\": \"age\", \"datatype\": \"INT32\", \"shape\": [1], \"data\": [2.5]}]}", "(2.5) is not an integer")]
    [InlineData("{\"inputs\": [{\"name\": \"age\", \"datatype\": \"INT64\", \"shape\": [1], \"data\": [null]}]}", "is INT64, but value 0 is null")]
    [InlineData("{\"inputs\": [{\"name\": \"age\", \"datatype\": \"FP16\", \"shape\": [1], \"data\": [70000]}]}", "is outside its range")]
    [InlineData("{\"inputs\": [{\"name\": \"age\", \"datatype\": \"FP32\", \"shape\": [1], \"data\": [\"40\"]}]}", "value 0 is a string")]
    [InlineData("{\"inputs\": [{\"name\": \"age\", \"datatype\": \"FP8\", \"shape\": [1], \"data\": [4]}]}", "not FP8")]
    public async Task MalformedOpenInferenceRequests_Are400WithTheReason(string request, string reason)
    {
        var (status, body) = await Client.PostJsonAsync($"/v2/models/{AdultModelFixture.Model}/infer", request);

        Assert.Equal(400, status);
        Assert.Contains(reason, body.GetProperty("error").GetString());
        Assert.Equal("invalid_argument", body.GetProperty("code").GetString());
    }

    [Fact]
    public async Task MismatchedRowCounts_Are400()
    {
        var request = AdultModelFixture.TwoRowsAsOpenInference().Replace("\"shape\": [2], \"data\": [\"White\", \"White\"]", "\"shape\": [1], \"data\": [\"White\"]", StringComparison.Ordinal);

        var (status, body) = await Client.PostJsonAsync($"/v2/models/{AdultModelFixture.Model}/infer", request);

        Assert.Equal(400, status);
        Assert.Contains("Input 'race' has 1 rows, but earlier inputs have 2", body.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("{\"rows\": [{\"age\": 30}]}", "Row 0 lacks column 'workclass'")]
    [InlineData("{\"rows\": []}", "between 1 and")]
    [InlineData("{\"rows\": [42]}", "Row 0 is not a JSON object")]
    [InlineData("{\"rows\": [{\"age\": \"old\"}]}", "'old' is not a numeric value")]
    [InlineData("{\"records\": []}", "must be {\"rows\"")]
    public async Task MalformedRowsRequests_Are400WithTheReason(string request, string reason)
    {
        var (status, body) = await Client.PostJsonAsync($"/api/models/{AdultModelFixture.Model}/predict", request);

        Assert.Equal(400, status);
        Assert.Contains(reason, body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task NonJsonContentType_Is415()
    {
        using var content = new StringContent("age=3");
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-www-form-urlencoded");

        using var response = await Client.PostAsync($"/api/models/{AdultModelFixture.Model}/predict", content);

        Assert.Equal(415, (int)response.StatusCode);
        Assert.Contains("application/json", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task AMovedAlias_IsServedWithoutARestart()
    {
        var runId = fixture.RunId;
        await fixture.Harness.RunOkAsync("models", "register", runId, "--name", "adult-income-2");
        await fixture.Harness.RunOkAsync("models", "register", runId, "--name", "adult-income-2", "--alias", "champion");
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var client = await fixture.Harness.StartServerAsync(time: time);
        var (_, before) = await client.PostJsonAsync("/api/models/adult-income-2/predict", AdultModelFixture.TwoRows);

        await fixture.Harness.RunOkAsync("models", "set-alias", "adult-income-2", "champion", "1");
        var (_, cached) = await client.PostJsonAsync("/api/models/adult-income-2/predict", AdultModelFixture.TwoRows);
        time.Advance(ModelServing.AliasRefresh + TimeSpan.FromSeconds(1));
        var (_, after) = await client.PostJsonAsync("/api/models/adult-income-2/predict", AdultModelFixture.TwoRows);

        Assert.Equal(2, before.GetProperty("version").GetInt32());
        Assert.Equal(2, cached.GetProperty("version").GetInt32());
        Assert.Equal(1, after.GetProperty("version").GetInt32());
    }
}
