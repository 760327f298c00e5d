using System.Runtime.InteropServices;
using Cairn.Adapters.CompiledEngine.Onnx;

namespace Cairn.Adapters.CompiledEngine;

/// <summary>Reads a node's attributes and constant tensors as plain arrays.</summary>
internal static class OnnxNodes
{
    // TensorProto.DataType values the engine reads.
    public const int Float = 1;
    public const int Int32 = 6;
    public const int Int64 = 7;
    public const int String = 8;
    public const int Bool = 9;
    public const int Double = 11;

    public static AttributeProto? Find(this NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

    public static float[] Floats(this NodeProto node, string name) => node.Find(name) is { } a ? [.. a.Floats] : [];

    public static long[] Ints(this NodeProto node, string name) => node.Find(name) is { } a ? [.. a.Ints] : [];

    public static string[] Strings(this NodeProto node, string name) => node.Find(name) is { } a ? [.. a.Strings.Select(s => s.ToStringUtf8())] : [];

    public static long Int(this NodeProto node, string name, long fallback) => node.Find(name) is { } a ? a.I : fallback;

    public static float Float32(this NodeProto node, string name, float fallback) => node.Find(name) is { } a ? a.F : fallback;

    public static string Text(this NodeProto node, string name, string fallback) => node.Find(name) is { } a ? a.S.ToStringUtf8() : fallback;

    /// <summary>An integer cast to element type <paramref name="to"/> and back to 64 bits, wrapping as C's casts do.</summary>
    public static long CastInteger(long value, long to) => to switch
    {
        2 => (byte)value,
        3 => (sbyte)value,
        4 => (ushort)value,
        5 => (short)value,
        Int32 => (int)value,
        12 => (uint)value,
        _ => value,
    };

    /// <summary>A numeric constant's values as floats, or null for a type the engine does not read.</summary>
    public static float[]? Values(TensorProto tensor)
    {
        var raw = tensor.RawData.Span;
        return tensor.DataType switch
        {
            Float => raw.Length > 0 ? MemoryMarshal.Cast<byte, float>(raw).ToArray() : [.. tensor.FloatData],
            Double => raw.Length > 0 ? [.. MemoryMarshal.Cast<byte, double>(raw).ToArray().Select(d => (float)d)] : [.. tensor.DoubleData.Select(d => (float)d)],
            Int64 => raw.Length > 0 ? [.. MemoryMarshal.Cast<byte, long>(raw).ToArray().Select(v => (float)v)] : [.. tensor.Int64Data.Select(v => (float)v)],
            Int32 => raw.Length > 0 ? [.. MemoryMarshal.Cast<byte, int>(raw).ToArray().Select(v => (float)v)] : [.. tensor.Int32Data.Select(v => (float)v)],
            _ => null,
        };
    }
}
