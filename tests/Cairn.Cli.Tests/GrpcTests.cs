using System.Buffers.Binary;
using Cairn.Server.Grpc;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Cairn.Cli.Tests;

/// <summary>The Open Inference Protocol's gRPC service against a real server, compared with its REST twin.</summary>
public sealed class GrpcTests(AdultModelFixture fixture) : IClassFixture<AdultModelFixture>, IAsyncLifetime
{
    private HttpClient _rest = null!;
    private GrpcChannel _channel = null!;

    private GRPCInferenceService.GRPCInferenceServiceClient Client => new(_channel);

    public async Task InitializeAsync()
    {
        _rest = await fixture.Harness.StartServerAsync(options: new Server.CairnServerOptions { GrpcPort = 0 });
        _channel = GrpcChannel.ForAddress(fixture.Harness.GrpcAddress!);
    }

    public Task DisposeAsync()
    {
        _channel.Dispose();
        _rest.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task HealthAndMetadata_DescribeTheServerAndTheModel()
    {
        Assert.True((await Client.ServerLiveAsync(new ServerLiveRequest())).Live);
        Assert.True((await Client.ServerReadyAsync(new ServerReadyRequest())).Ready);
        Assert.Equal("cairn", (await Client.ServerMetadataAsync(new ServerMetadataRequest())).Name);
        Assert.True((await Client.ModelReadyAsync(new ModelReadyRequest { Name = AdultModelFixture.Model })).Ready);

        var metadata = await Client.ModelMetadataAsync(new ModelMetadataRequest { Name = AdultModelFixture.Model });
        Assert.Equal(["1"], metadata.Versions);
        Assert.Contains(metadata.Inputs, i => i is { Name: "workclass", Datatype: "BYTES" });
        Assert.Contains(metadata.Inputs, i => i is { Name: "age", Datatype: "FP32" });
        Assert.Contains(metadata.Outputs, o => o.Name == "probability");
    }

    [Fact]
    public async Task Infer_WithTypedContents_AgreesWithRest()
    {
        var response = await Client.ModelInferAsync(TwoRows(raw: false));
        var (_, rest) = await _rest.PostJsonAsync($"/v2/models/{AdultModelFixture.Model}/infer", AdultModelFixture.TwoRowsAsOpenInference());

        Assert.Equal("req-7", response.Id);
        Assert.Equal("1", response.ModelVersion);
        Assert.Equal(32, response.Parameters["prediction_id"].StringParam.Length);
        var probability = response.Outputs.Single(o => o.Name == "probability");
        Assert.Equal([2L], probability.Shape);
        var restProbability = rest.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "probability")
            .GetProperty("data").EnumerateArray().Select(v => v.GetSingle());
        Assert.Equal(restProbability, probability.Contents.Fp32Contents);
        Assert.Equal([">50K", "<=50K"], response.Outputs.Single(o => o.Name == "predicted_label").Contents.BytesContents.Select(b => b.ToStringUtf8()));
    }

    [Fact]
    public async Task Infer_WithRawContents_GivesTheSameAnswer()
    {
        var typed = await Client.ModelInferAsync(TwoRows(raw: false));
        var raw = await Client.ModelInferAsync(TwoRows(raw: true));

        Assert.Equal(typed.Outputs.Single(o => o.Name == "probability").Contents.Fp32Contents,
            raw.Outputs.Single(o => o.Name == "probability").Contents.Fp32Contents);
    }

    [Theory]
    [InlineData("unknown-model", null, StatusCode.NotFound, "unknown-model")]
    [InlineData(null, "workclass:FP32", StatusCode.InvalidArgument, "send it as BYTES")]
    [InlineData(null, "age:BYTES", StatusCode.InvalidArgument, "send it as FP32")]
    [InlineData(null, "age:INT8=300", StatusCode.InvalidArgument, "not an integer in its range -128..127")]
    [InlineData(null, "age:shape=3", StatusCode.InvalidArgument, "has 2 values, but its shape needs 3")]
    [InlineData(null, "sex:utf8", StatusCode.InvalidArgument, "not UTF-8")]
    [InlineData(null, "drop:race", StatusCode.InvalidArgument, "lacks input(s): race")]
    public async Task BadRequests_GetTheProtocolsStatusAndTheReason(string? model, string? damage, StatusCode code, string message)
    {
        var request = TwoRows(raw: false);
        if (model is not null)
        {
            request.ModelName = model;
        }

        if (damage is not null)
        {
            var (column, change) = (damage.Split(':')[0], damage.Split(':')[1]);
            var tensor = request.Inputs.SingleOrDefault(i => i.Name == column);
            switch (change)
            {
                case "FP32":
                    tensor!.Datatype = "FP32";
                    tensor.Contents = new InferTensorContents { Fp32Contents = { 1, 2 } };
                    break;
                case "BYTES":
                    tensor!.Datatype = "BYTES";
                    tensor.Contents = new InferTensorContents { BytesContents = { ByteString.CopyFromUtf8("a"), ByteString.CopyFromUtf8("b") } };
                    break;
                case "INT8=300":
                    tensor!.Datatype = "INT8";
                    tensor.Contents = new InferTensorContents { IntContents = { 300, 5 } };
                    break;
                case "shape=3":
                    tensor!.Shape[0] = 3;
                    break;
                case "utf8":
                    tensor!.Contents.BytesContents[0] = ByteString.CopyFrom(0xff, 0xfe);
                    break;
                default:
                    request.Inputs.Remove(request.Inputs.Single(i => i.Name == change));
                    break;
            }
        }

        var error = await Assert.ThrowsAsync<RpcException>(async () => await Client.ModelInferAsync(request));

        Assert.Equal(code, error.StatusCode);
        Assert.Contains(message, error.Status.Detail);
    }

    // The fixture's two rows; numbers as FP32 (or, raw, age as INT8 and hours as FP16 to cover the little-endian forms).
    internal static ModelInferRequest TwoRows(bool raw)
    {
        var request = new ModelInferRequest { ModelName = AdultModelFixture.Model, Id = "req-7" };
        (string Name, object[] Values)[] columns =
        [
            ("age", [52f, 19f]), ("workclass", ["Self-emp-inc", "Private"]), ("education", ["Doctorate", "11th"]), ("education_num", [16f, 7f]),
            ("marital_status", ["Married-civ-spouse", "Never-married"]), ("occupation", ["Prof-specialty", "Handlers-cleaners"]),
            ("relationship", ["Husband", "Own-child"]), ("race", ["White", "White"]), ("sex", ["Male", "Female"]), ("capital_gain", [15024f, 0f]),
            ("capital_loss", [0f, 0f]), ("hours_per_week", [60f, 20f]), ("native_country", ["United-States", ""]),
        ];
        foreach (var (name, values) in columns)
        {
            var text = values[0] is string;
            var datatype = !text ? raw && name == "age" ? "INT8" : raw && name == "hours_per_week" ? "FP16" : "FP32" : "BYTES";
            var tensor = new ModelInferRequest.Types.InferInputTensor { Name = name, Datatype = datatype, Shape = { 2 } };
            if (!raw)
            {
                tensor.Contents = new InferTensorContents();
                if (text)
                {
                    tensor.Contents.BytesContents.AddRange(values.Select(v => ByteString.CopyFromUtf8((string)v)));
                }
                else
                {
                    tensor.Contents.Fp32Contents.AddRange(values.Cast<float>());
                }
            }
            else
            {
                var bytes = new List<byte>();
                foreach (var value in values)
                {
                    var buffer = new byte[8];
                    switch (datatype)
                    {
                        case "BYTES":
                            var utf8 = System.Text.Encoding.UTF8.GetBytes((string)value);
                            BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)utf8.Length);
                            bytes.AddRange(buffer[..4]);
                            bytes.AddRange(utf8);
                            break;
                        case "INT8":
                            bytes.Add((byte)(sbyte)(float)value);
                            break;
                        case "FP16":
                            BinaryPrimitives.WriteHalfLittleEndian(buffer, (Half)(float)value);
                            bytes.AddRange(buffer[..2]);
                            break;
                        default:
                            BinaryPrimitives.WriteSingleLittleEndian(buffer, (float)value);
                            bytes.AddRange(buffer[..4]);
                            break;
                    }
                }

                request.RawInputContents.Add(ByteString.CopyFrom([.. bytes]));
            }

            request.Inputs.Add(tensor);
        }

        return request;
    }
}
