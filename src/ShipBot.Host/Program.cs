using ShipBot.Host;

if (args is ["tokens", ..])
{
    return await TokenCommandLine.RunAsync(args[1..]);
}

WebApplication app;
try
{
    app = ShipBotApp.Build(args);
}
catch (Exception ex) when (ConfigurationError.TryDescribe(ex, out var line))
{
    // One line naming the key, no stack trace: the operator fixes a setting, not the code.
    Console.Error.WriteLine(line);
    return 1;
}

app.Run();
return 0;
