using System.Globalization;

namespace Cairn.Core.Training;

/// <summary>How categorical columns become numbers.</summary>
public enum CategoricalEncoding
{
    /// <summary>One indicator per level seen in training.</summary>
    OneHot,

    /// <summary>Levels hashed into 2^bits indicators: bounded width, unseen levels still land somewhere.</summary>
    Hash,
}

/// <summary>What replaces a missing number.</summary>
public enum MissingReplacement
{
    /// <summary>The training mean.</summary>
    Mean,

    /// <summary>The training minimum.</summary>
    Min,

    /// <summary>The training maximum.</summary>
    Max,

    /// <summary>Zero.</summary>
    Zero,
}

/// <summary>How the assembled feature vector is scaled.</summary>
public enum Normalization
{
    /// <summary>Min–max for linear trainers, none for trees (which do not care).</summary>
    Auto,

    /// <summary>No scaling.</summary>
    None,

    /// <summary>Each feature scaled into [0, 1] by its training range.</summary>
    MinMax,

    /// <summary>Each feature scaled to zero mean and unit variance.</summary>
    MeanVariance,
}

/// <summary>The featurization a training spec declares; every choice has a default.</summary>
/// <param name="Categorical">The default encoding of categorical columns.</param>
/// <param name="HashColumns">Categorical columns hashed whatever the default.</param>
/// <param name="HashBits">The bits of a hashed encoding (2^bits indicators).</param>
/// <param name="Missing">The replacement of missing numbers.</param>
/// <param name="Normalize">The scaling of the feature vector.</param>
/// <param name="TextColumns">Categorical columns featurized as text; text columns always are.</param>
/// <param name="SelectFeatures">Keep only this many feature columns, those with the most mutual information with the label
/// on the training rows (text columns are always kept); null keeps all.</param>
public sealed record Featurization(
    CategoricalEncoding Categorical = CategoricalEncoding.OneHot,
    IReadOnlyList<string>? HashColumns = null,
    int HashBits = 16,
    MissingReplacement Missing = MissingReplacement.Mean,
    Normalization Normalize = Normalization.Auto,
    IReadOnlyList<string>? TextColumns = null,
    int? SelectFeatures = null)
{
    /// <summary>The columns hashed whatever the default.</summary>
    public IReadOnlyList<string> Hashed => HashColumns ?? [];

    /// <summary>The categorical columns featurized as text.</summary>
    public IReadOnlyList<string> Text => TextColumns ?? [];

    /// <summary>The choices as flat run params, under <c>featurize.</c>.</summary>
    public IEnumerable<KeyValuePair<string, string>> ToParams()
    {
        yield return new("featurize.categorical", Name(Categorical));
        if (Categorical == CategoricalEncoding.Hash || Hashed.Count > 0)
        {
            yield return new("featurize.hash_bits", HashBits.ToString(CultureInfo.InvariantCulture));
        }

        if (Hashed.Count > 0)
        {
            yield return new("featurize.hash", string.Join(",", Hashed));
        }

        yield return new("featurize.missing", Name(Missing));
        yield return new("featurize.normalize", Name(Normalize));
        if (Text.Count > 0)
        {
            yield return new("featurize.text", string.Join(",", Text));
        }

        if (SelectFeatures is { } count)
        {
            yield return new("featurize.select_features", count.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>The snake_case name of a choice, as specs write it.</summary>
    public static string Name<T>(T value)
        where T : struct, Enum =>
        System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    /// <summary>Parses a snake_case choice (<c>one_hot</c>, <c>mean_variance</c>…), or null when it names none.</summary>
    public static T? Parse<T>(string text)
        where T : struct, Enum =>
        Enum.GetValues<T>().Cast<T?>().FirstOrDefault(v => Squash(Name(v!.Value)) == Squash(text));

    // one_hot, one-hot and onehot name the same choice.
    private static string Squash(string text) => text.Trim().ToLowerInvariant().Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);
}
