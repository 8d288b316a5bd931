using ShipBot.Host;

var app = ShipBotApp.Build(args);
app.Run();
