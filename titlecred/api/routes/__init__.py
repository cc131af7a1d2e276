"""One module per resource; each route validates, calls one service, shapes the response.

Routes must never hold a rule of their own, nor talk to the database except through a service.
"""
