namespace Cairn.Core.Ports;

/// <summary>Cron expressions: checking them and finding when they fire.</summary>
public interface ICronCalendar
{
    /// <summary>What is wrong with <paramref name="expression"/>, or null when it is a valid expression.</summary>
    string? Problem(string expression);

    /// <summary>The first time after <paramref name="after"/> that <paramref name="expression"/> fires (in UTC), or null if never.</summary>
    DateTimeOffset? NextAfter(string expression, DateTimeOffset after);
}
