// The ceiling for Cairn's serving: the same machine, the same Kestrel, a request body read and a
// constant answer of the same shape as a prediction, and no model or validation at all.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
var app = builder.Build();

var answer = """{"model":"adult-income","version":1,"predictions":[{"predicted_label":">50K","probability":0.8123,"score":1.4623}]}"""u8.ToArray();
app.MapPost("/predict", async (HttpContext context) =>
{
    await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
    context.Response.ContentType = "application/json";
    context.Response.ContentLength = answer.Length;
    await context.Response.Body.WriteAsync(answer, context.RequestAborted);
});
app.Run();
