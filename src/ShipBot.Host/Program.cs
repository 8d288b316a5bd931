using ShipBot.Host;

if (args is ["tokens", ..])
{
    return await TokenCommandLine.RunAsync(args[1..]);
}

var app = ShipBotApp.Build(args);
app.Run();
return 0;
