"""The TVM's touchscreen kiosk: screens drawn from the runtime's views, touches turned into intents.

``kiosk.Kiosk`` draws each ``device.tvm.view.TvmView`` with pygame_gui and
hands back ``Intent`` objects; ``loop.run_kiosk`` drives it on the unit's
asyncio loop; ``journey.JourneyPlayer`` plays a passenger's scripted journey
as real touches on those screens; ``frames.frame_times`` measures a frame.
"""
