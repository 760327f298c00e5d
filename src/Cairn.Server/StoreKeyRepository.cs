using System.Xml.Linq;
using Cairn.Core.Ports;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Cairn.Server;

/// <summary>
/// Keeps the Data Protection key ring in the metadata store, so every server of one store seals and opens the same
/// session cookies (a replica behind a load balancer accepts a session another one started). Anyone who can read the
/// store could forge a session — no more than they could do already with the store itself.
/// </summary>
internal sealed class StoreKeyRepository(IIdentityStore store) : IXmlRepository
{
    // Data Protection reads its key ring synchronously, at start and about once a day; the blocking waits are its API's, not the request path's.
    public IReadOnlyCollection<XElement> GetAllElements() =>
        [.. store.ListProtectionKeysAsync(CancellationToken.None).GetAwaiter().GetResult().Select(xml => XElement.Parse(xml))];

    public void StoreElement(XElement element, string friendlyName)
    {
        ArgumentNullException.ThrowIfNull(element);
        store.AddProtectionKeyAsync(friendlyName, element.ToString(SaveOptions.DisableFormatting), CancellationToken.None).GetAwaiter().GetResult();
    }
}
