using System.Numerics;

namespace Cairn.Core.Statistics;

/// <summary>
/// Counts distinct values approximately in fixed memory (HyperLogLog with 2^12 one-byte registers and 64-bit hashes:
/// a standard error of 1.04 / sqrt(4096) ≈ 1.6%, and exact-ish linear counting for small sets). Two sketches merge
/// into the sketch of the union.
/// </summary>
public sealed class HyperLogLog
{
    /// <summary>Bits of the hash that choose a register.</summary>
    public const int Precision = 12;

    private const int RegisterCount = 1 << Precision;

    private readonly byte[] _registers;

    /// <summary>An empty sketch.</summary>
    public HyperLogLog()
        : this(new byte[RegisterCount])
    {
    }

    private HyperLogLog(byte[] registers) => _registers = registers;

    /// <summary>The relative standard error of <see cref="Estimate"/>.</summary>
    public static double StandardError => 1.04 / Math.Sqrt(RegisterCount);

    /// <summary>Adds a value by its 64-bit hash (which must be well mixed, such as XxHash3's).</summary>
    public void Add(ulong hash)
    {
        var index = (int)(hash >> (64 - Precision));
        var rank = (byte)(BitOperations.LeadingZeroCount((hash << Precision) | (1UL << (Precision - 1))) + 1);
        if (rank > _registers[index])
        {
            _registers[index] = rank;
        }
    }

    /// <summary>Adds a number (0 and -0 count as one value).</summary>
    public void Add(double value) => Add(Hash(value));

    /// <summary>A well-mixed 64-bit hash of a number's bits (SplitMix64's finalizer), with 0 and -0 equal.</summary>
    public static ulong Hash(double value)
    {
        var z = (ulong)BitConverter.DoubleToInt64Bits(value == 0 ? 0d : value);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Adds every value <paramref name="other"/> has seen.</summary>
    public void Merge(HyperLogLog other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (var i = 0; i < RegisterCount; i++)
        {
            _registers[i] = Math.Max(_registers[i], other._registers[i]);
        }
    }

    /// <summary>The estimated number of distinct values added.</summary>
    public long Estimate()
    {
        double sum = 0;
        var zeros = 0;
        foreach (var register in _registers)
        {
            sum += Math.ScaleB(1, -register);
            zeros += register == 0 ? 1 : 0;
        }

        const double m = RegisterCount;
        var raw = 0.7213 / (1 + (1.079 / m)) * m * m / sum;
        var estimate = raw <= 2.5 * m && zeros > 0 ? m * Math.Log(m / zeros) : raw;
        return (long)Math.Round(estimate);
    }

    /// <summary>The registers, for storage.</summary>
    public byte[] ToBytes() => [.. _registers];

    /// <summary>A sketch from stored registers.</summary>
    public static HyperLogLog FromBytes(byte[] registers)
    {
        ArgumentNullException.ThrowIfNull(registers);
        return registers.Length == RegisterCount
            ? new HyperLogLog([.. registers])
            : throw new CairnException(ErrorCode.Corrupt, $"A stored distinct-count sketch has {registers.Length} registers; expected {RegisterCount}.");
    }
}
