namespace Cairn.Core;

/// <summary>The rule for user-chosen names of datasets, models and aliases.</summary>
public static class Names
{
    private const int MaxLength = 128;

    /// <summary>Whether <paramref name="name"/> follows the rule.</summary>
    public static bool IsValid(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxLength && char.IsAsciiLetterOrDigit(name[0]) &&
        name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>Throws unless <paramref name="name"/> is 1–128 characters of letters, digits, '-', '_' and '.', starting with a letter or digit.</summary>
    public static string Validate(string? name, string what)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw CairnException.Invalid($"The {what} name is empty.");
        }

        if (!IsValid(name))
        {
            throw CairnException.Invalid(
                $"The {what} name '{name}' is not valid: use 1-{MaxLength} letters, digits, '-', '_' or '.', starting with a letter or digit.");
        }

        return name;
    }
}
