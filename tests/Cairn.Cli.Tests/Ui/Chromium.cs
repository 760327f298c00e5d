using Microsoft.Playwright;

namespace Cairn.Cli.Tests.Ui;

/// <summary>
/// Debian's Chromium driven by Playwright (its own browser download cannot work here), one per test class. Every page
/// a test opens can be saved as a screenshot under <c>ui-screenshots/</c> beside the tests, to be looked at.
/// </summary>
internal sealed class Chromium : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public static string ScreenshotFolder { get; } = Path.Combine(AppContext.BaseDirectory, "ui-screenshots");

    public static async Task<Chromium> LaunchAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException($"The UI tests need Chromium at {ExecutablePath}; ./test.sh installs it (apt-get install chromium).");
        }

        var chromium = new Chromium { _playwright = await Playwright.CreateAsync() };
        chromium.Browser = await chromium._playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            // Sandboxed iframes (artifact and report previews) in their own process are blank in headless screenshots.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-features=IsolateSandboxedIframes"],
        });
        return chromium;
    }

    /// <summary>A fresh browser context (its own cookies) at a laptop's size, in the given colour scheme.</summary>
    public async Task<IPage> NewPageAsync(Uri server, ColorScheme scheme = ColorScheme.Light)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = server.AbsoluteUri,
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
            ColorScheme = scheme,
        });
        context.SetDefaultTimeout(20_000);
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add(message.Text);
            }
        };
        Errors[page] = errors;
        return page;
    }

    /// <summary>Script errors and console errors each page has shown: a page that works shows none.</summary>
    public Dictionary<IPage, List<string>> Errors { get; } = [];

    public static async Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ScreenshotFolder);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, name + ".png"), FullPage = true });
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}
