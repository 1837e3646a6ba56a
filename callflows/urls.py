app_name = "callflows"
urlpatterns = []
