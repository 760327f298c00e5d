using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Cairn.Application.Serving;
using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Server.Grpc;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Cairn.Server;

/// <summary>
/// The Open Inference Protocol v2 over gRPC (KServe's <c>inference.GRPCInferenceService</c>): the same models,
/// deployments, routing, batching and checks as the REST endpoints, with typed or raw tensor contents.
/// </summary>
internal sealed class OpenInferenceGrpc(ServingState state, DeploymentHost deployments) : GRPCInferenceService.GRPCInferenceServiceBase
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerReadyResponse { Ready = state.Ready && (state.Deployment is not { } only || deployments.Find(only) is not null) });

    public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerMetadataResponse { Name = "cairn", Version = CairnServer.Version });

    public override async Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context)
    {
        using var target = await AcquireAsync(request.Name, request.Version, context);
        return new ModelReadyResponse { Ready = true };
    }

    public override async Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context)
    {
        using var target = await AcquireAsync(request.Name, request.Version, context);
        var signature = target.Model.Runtime.Signature;
        var response = new ModelMetadataResponse { Name = request.Name, Platform = target.Platform };
        response.Versions.AddRange(target.Deployment is { } deployment && request.Version.Length == 0
            ? deployment.Models.Select(m => m.Version.Version.ToString(CultureInfo.InvariantCulture)).Distinct()
            : [target.Model.Version.Version.ToString(CultureInfo.InvariantCulture)]);
        response.Inputs.AddRange(signature.Inputs.Select(i => Tensor(i.Name, i.TensorType, 1)));
        response.Outputs.AddRange(signature.Outputs.Select(o => Tensor(o.Name, o.Type, o.Width)));
        return response;
    }

    public override async Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context)
    {
        using var target = await AcquireAsync(request.ModelName, request.ModelVersion, context);
        // gRPC hands over the message already read; admitting it by its size still bounds the work in hand.
        target.Admit(request.CalculateSize());
        var signature = target.Model.Runtime.Signature;
        var inputs = ReadInputs(request, signature);
        var requested = request.Outputs.Select(o => signature.Outputs.Any(s => s.Name == o.Name)
            ? o.Name
            : throw CairnException.Invalid($"Output '{o.Name}' is not an output of this model; its outputs are: {string.Join(", ", signature.Outputs.Select(s => s.Name))}.")).ToHashSet();
        var outputs = await target.PredictAsync(inputs, context.GetHttpContext());
        var response = new ModelInferResponse
        {
            ModelName = request.ModelName,
            ModelVersion = target.Model.Version.Version.ToString(CultureInfo.InvariantCulture),
            Id = request.Id.Length > 0 ? request.Id : target.PredictionId,
        };
        response.Parameters["prediction_id"] = new InferParameter { StringParam = target.PredictionId };
        response.Parameters["model"] = new InferParameter { StringParam = target.Model.Version.Model };
        foreach (var output in outputs.Where(o => requested.Count == 0 || requested.Contains(o.Name)))
        {
            var tensor = new ModelInferResponse.Types.InferOutputTensor
            {
                Name = output.Name,
                Datatype = output.Type == TensorType.Fp32 ? "FP32" : "BYTES",
                Contents = new InferTensorContents(),
            };
            tensor.Shape.Add(output.Rows);
            if (output.Width > 1)
            {
                tensor.Shape.Add(output.Width);
            }

            if (output.Floats is { } floats)
            {
                tensor.Contents.Fp32Contents.AddRange(floats);
            }
            else
            {
                tensor.Contents.BytesContents.AddRange(output.Strings!.Select(s => ByteString.CopyFromUtf8(s ?? "")));
            }

            response.Outputs.Add(tensor);
        }

        return response;
    }

    private static ValueTask<ScoringTarget> AcquireAsync(string name, string version, ServerCallContext context) =>
        ScoringTarget.AcquireAsync(Names.Validate(name, "model"), version.Length == 0 ? null : version, TargetScope.Any, context.GetHttpContext());

    private static ModelMetadataResponse.Types.TensorMetadata Tensor(string name, TensorType type, int width)
    {
        var tensor = new ModelMetadataResponse.Types.TensorMetadata { Name = name, Datatype = type == TensorType.Fp32 ? "FP32" : "BYTES" };
        tensor.Shape.Add(-1);
        if (width > 1)
        {
            tensor.Shape.Add(width);
        }

        return tensor;
    }

    // One column per signature input, every value checked against the tensor's datatype, as the REST endpoint does.
    private static Table ReadInputs(ModelInferRequest request, ModelSignature signature)
    {
        var raw = request.RawInputContents;
        if (raw.Count > 0 && raw.Count != request.Inputs.Count)
        {
            throw CairnException.Invalid($"The request has {request.Inputs.Count} inputs but {raw.Count} raw_input_contents; send one per input, or none.");
        }

        var columns = new Dictionary<string, TableColumn>(StringComparer.Ordinal);
        int? rows = null;
        for (var t = 0; t < request.Inputs.Count; t++)
        {
            var tensor = request.Inputs[t];
            var name = tensor.Name;
            var input = signature.FindInput(name)
                ?? throw CairnException.Invalid($"Input '{name}' is not an input of this model; its inputs are: {string.Join(", ", signature.Inputs.Select(i => i.Name))}.");
            if (columns.ContainsKey(name))
            {
                throw CairnException.Invalid($"Input '{name}' appears more than once.");
            }

            var count = InferenceRequests.RowsOf(tensor.Shape, name);
            if (rows is { } expected && expected != count)
            {
                throw CairnException.Invalid($"Input '{name}' has {count} rows, but earlier inputs have {expected}; every input needs the same first dimension.");
            }

            rows = count;
            var datatype = tensor.Datatype;
            if (raw.Count > 0 && tensor.Contents is not null && !tensor.Contents.Equals(new InferTensorContents()))
            {
                throw CairnException.Invalid($"Input '{name}' has both contents and raw_input_contents; send one or the other.");
            }

            if (input.TensorType == TensorType.Bytes)
            {
                var values = datatype == "BYTES"
                    ? raw.Count > 0 ? RawStrings(raw[t], name) : [.. (tensor.Contents?.BytesContents ?? []).Select(b => Utf8(b.Span, name))]
                    : throw InferenceRequests.WrongDatatype(input, datatype);
                columns[name] = new StringColumn(name, values.Length == count ? values : throw Count(name, values.Length, count));
            }
            else
            {
                var values = InferenceRequests.NumericRanges.ContainsKey(datatype)
                    ? raw.Count > 0 ? RawNumbers(raw[t].Span, datatype, name) : TypedNumbers(tensor.Contents ?? new InferTensorContents(), datatype, name)
                    : throw InferenceRequests.WrongDatatype(input, datatype);
                columns[name] = new NumericColumn(name, values.Length == count ? values : throw Count(name, values.Length, count));
            }
        }

        var missing = signature.Inputs.Where(i => !columns.ContainsKey(i.Name)).Select(i => i.Name).ToList();
        return missing.Count > 0
            ? throw CairnException.Invalid($"The request lacks input(s): {string.Join(", ", missing)}.")
            : new Table([.. signature.Inputs.Select(i => columns[i.Name])], rows!.Value);
    }

    private static CairnException Count(string name, int values, int rows) =>
        CairnException.Invalid($"Input '{name}' has {values} values, but its shape needs {rows}.");

    private static float[] TypedNumbers(InferTensorContents contents, string datatype, string name)
    {
        IEnumerable<double> values = datatype switch
        {
            "BOOL" => contents.BoolContents.Select(b => b ? 1.0 : 0.0),
            "INT8" or "INT16" or "INT32" => contents.IntContents.Select(v => (double)v),
            "INT64" => contents.Int64Contents.Select(v => (double)v),
            "UINT8" or "UINT16" or "UINT32" => contents.UintContents.Select(v => (double)v),
            "UINT64" => contents.Uint64Contents.Select(v => (double)v),
            "FP32" => contents.Fp32Contents.Select(v => (double)v),
            "FP64" => contents.Fp64Contents,
            _ => throw CairnException.Invalid($"Input '{name}' is {datatype}, which has no typed contents; send it in raw_input_contents."),
        };
        return [.. values.Select((v, i) => double.IsNaN(v) ? float.NaN : InferenceRequests.Checked(v, datatype, name, i))];
    }

    // Little-endian, row-major values without padding.
    private static float[] RawNumbers(ReadOnlySpan<byte> raw, string datatype, string name)
    {
        var size = datatype switch
        {
            "BOOL" or "INT8" or "UINT8" => 1,
            "INT16" or "UINT16" or "FP16" => 2,
            "INT32" or "UINT32" or "FP32" => 4,
            _ => 8,
        };
        if (raw.Length % size != 0)
        {
            throw CairnException.Invalid($"Input '{name}' has {raw.Length} raw bytes, which is not a whole number of {size}-byte {datatype} values.");
        }

        var values = new float[raw.Length / size];
        for (var i = 0; i < values.Length; i++)
        {
            var at = raw.Slice(i * size, size);
            double value = datatype switch
            {
                "BOOL" => at[0] switch
                {
                    0 => 0,
                    1 => 1,
                    _ => throw CairnException.Invalid($"Input '{name}' is BOOL, but raw value {i} is the byte {at[0]}; send 0 or 1."),
                },
                "INT8" => (sbyte)at[0],
                "UINT8" => at[0],
                "INT16" => BinaryPrimitives.ReadInt16LittleEndian(at),
                "UINT16" => BinaryPrimitives.ReadUInt16LittleEndian(at),
                "FP16" => (double)BinaryPrimitives.ReadHalfLittleEndian(at),
                "INT32" => BinaryPrimitives.ReadInt32LittleEndian(at),
                "UINT32" => BinaryPrimitives.ReadUInt32LittleEndian(at),
                "FP32" => BinaryPrimitives.ReadSingleLittleEndian(at),
                "INT64" => BinaryPrimitives.ReadInt64LittleEndian(at),
                "UINT64" => BinaryPrimitives.ReadUInt64LittleEndian(at),
                _ => BinaryPrimitives.ReadDoubleLittleEndian(at),
            };
            values[i] = double.IsNaN(value) ? float.NaN : InferenceRequests.Checked(value, datatype, name, i);
        }

        return values;
    }

    // BYTES in raw form: each value is a 4-byte little-endian length, then that many bytes.
    private static string?[] RawStrings(ByteString raw, string name)
    {
        var span = raw.Span;
        var values = new List<string?>();
        while (span.Length > 0)
        {
            var length = span.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(span) : uint.MaxValue;
            if (length > (uint)(span.Length - 4))
            {
                throw CairnException.Invalid($"Input '{name}' has raw BYTES that end inside value {values.Count}: each value needs a 4-byte length, then that many bytes.");
            }

            values.Add(Utf8(span.Slice(4, (int)length), name));
            span = span[(4 + (int)length)..];
        }

        return [.. values];
    }

    private static string? Utf8(ReadOnlySpan<byte> bytes, string name)
    {
        try
        {
            var text = StrictUtf8.GetString(bytes);
            return MissingValues.IsMissing(text) ? null : text;
        }
        catch (DecoderFallbackException)
        {
            throw CairnException.Invalid($"Input '{name}' has BYTES that are not UTF-8 text.");
        }
    }
}

/// <summary>Turns Cairn's failures into gRPC statuses with the same messages the REST endpoints give.</summary>
internal sealed class GrpcErrors : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (CairnException e)
        {
            var code = e.Code switch
            {
                ErrorCode.InvalidArgument => StatusCode.InvalidArgument,
                ErrorCode.NotFound => StatusCode.NotFound,
                ErrorCode.AlreadyExists => StatusCode.AlreadyExists,
                ErrorCode.Conflict => StatusCode.FailedPrecondition,
                ErrorCode.Unavailable => StatusCode.Unavailable,
                ErrorCode.Overloaded => StatusCode.ResourceExhausted,
                ErrorCode.Corrupt => StatusCode.DataLoss,
                ErrorCode.Unauthenticated => StatusCode.Unauthenticated,
                ErrorCode.PermissionDenied => StatusCode.PermissionDenied,
                ErrorCode.Throttled => StatusCode.ResourceExhausted,
                _ => StatusCode.Internal,
            };
            throw new RpcException(new Status(code, e.Message));
        }
    }
}
